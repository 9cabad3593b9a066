/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vmci_sockets.h: the vSockets API under VMware's names and numbers.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 *
 * Programs written for VMware's vSockets (and its Programming Guide)
 * include this file and ask it, at run time, which address family to pass
 * to socket(): VMCISock_GetAFValueFd() returns it, and the fd it hands back
 * must stay open until the program has created its sockets, because the
 * classic driver only keeps a family registered while someone uses it.
 * Everything else is the ordinary BSD socket API with a struct sockaddr_vm.
 *
 * The family, struct sockaddr_vm and the VMADDR_* constants are the same
 * ABI as upstream <linux/vm_sockets.h>, so when that header exists we take
 * the structure from it: either include order then works, and a program
 * may mix both APIs.
 *
 * Everything here is header-only so that nothing needs to be linked.
 */
#ifndef _UAPI_VMCI_SOCKETS_H
#define _UAPI_VMCI_SOCKETS_H

/*
 * Programs written against VMware's header got the socket, file and stdio
 * declarations from it, and the Guide's examples rely on that.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/*
 * Reuse upstream's struct sockaddr_vm when it is available, so that a
 * later #include <linux/vm_sockets.h> is a no-op instead of a redefinition.
 * Without __has_include we cannot tell whether the header exists; define
 * our own then (and also when VMCI_SOCKETS_STANDALONE asks us to ignore
 * it): <linux/vm_sockets.h> may still come first, but not after.
 */
#if !defined(VMCI_SOCKETS_STANDALONE) && defined(__has_include)
#if __has_include("linux/vm_sockets.h")
#include <linux/vm_sockets.h>
#endif
#endif

/* Installed headers lose the _UAPI_ prefix; kernel-tree copies keep it. */
#if !defined(_VM_SOCKETS_H) && !defined(_UAPI_VM_SOCKETS_H)
struct sockaddr_vm {
	sa_family_t svm_family;
	unsigned short svm_reserved1;
	unsigned int svm_port;
	unsigned int svm_cid;
	/* Must be zero unless the kernel understands the flag (upstream). */
	unsigned char svm_flags;
	unsigned char svm_zero[3];
};
#endif

#ifndef VMADDR_CID_ANY
#define VMADDR_CID_ANY		0xFFFFFFFFU
#endif
#ifndef VMADDR_PORT_ANY
#define VMADDR_PORT_ANY		0xFFFFFFFFU
#endif
#ifndef VMADDR_CID_HYPERVISOR
#define VMADDR_CID_HYPERVISOR	0
#endif
/* Older <linux/vm_sockets.h> called this VMADDR_CID_RESERVED. */
#ifndef VMADDR_CID_LOCAL
#define VMADDR_CID_LOCAL	1
#endif
#ifndef VMADDR_CID_HOST
#define VMADDR_CID_HOST		2
#endif
/* The old name of CID 1, still used by classic programs. */
#ifndef VMADDR_CID_RESERVED
#define VMADDR_CID_RESERVED	VMADDR_CID_LOCAL
#endif

/*
 * Socket options; the level is the address family itself. The buffer sizes
 * are 64-bit even on 32-bit systems. CONNECT_TIMEOUT takes a struct timeval
 * laid out with the kernel's "long", which is not the libc one for 32-bit
 * programs built with a 64-bit time_t.
 */
#ifndef SO_VMCI_BUFFER_SIZE
#define SO_VMCI_BUFFER_SIZE		0
#endif
#ifndef SO_VMCI_BUFFER_MIN_SIZE
#define SO_VMCI_BUFFER_MIN_SIZE		1
#endif
#ifndef SO_VMCI_BUFFER_MAX_SIZE
#define SO_VMCI_BUFFER_MAX_SIZE		2
#endif
/* ESX only. */
#ifndef SO_VMCI_PEER_HOST_VM_ID
#define SO_VMCI_PEER_HOST_VM_ID		3
#endif
/* ESX only. */
#ifndef SO_VMCI_SERVICE_LABEL
#define SO_VMCI_SERVICE_LABEL		4
#endif
#ifndef SO_VMCI_TRUSTED
#define SO_VMCI_TRUSTED			5
#endif
#ifndef SO_VMCI_CONNECT_TIMEOUT
#define SO_VMCI_CONNECT_TIMEOUT		6
#endif
/* Only meaningful to in-kernel endpoints. */
#ifndef SO_VMCI_NONBLOCK_TXRX
#define SO_VMCI_NONBLOCK_TXRX		7
#endif
/*
 * ESX only, and 8 is also upstream's SO_VM_SOCKETS_CONNECT_TIMEOUT_NEW:
 * vmsock reads 8 as the connect timeout. The names exist so that
 * programs which also target ESX compile.
 */
#ifndef SO_VMCI_DISCONNECT_CAUSE
#define SO_VMCI_DISCONNECT_CAUSE	8
#endif
#ifndef VMCI_SOCKETS_DISCONNECT_REGULAR
#define VMCI_SOCKETS_DISCONNECT_REGULAR	0
#endif
#ifndef VMCI_SOCKETS_DISCONNECT_VMOTION
#define VMCI_SOCKETS_DISCONNECT_VMOTION	1
#endif
/* ESX datagram sockets only: rate (packets/s), privileged ports, bursts. */
#ifndef SO_VMCI_PEER_LIMIT_RATE
#define SO_VMCI_PEER_LIMIT_RATE		9
#endif
#ifndef SO_VMCI_PEER_PRIV_LIMIT
#define SO_VMCI_PEER_PRIV_LIMIT		10
#endif
/* The spelling VMware's documentation example uses. */
#ifndef SO_VMCI_PEER_LIMIT_PRIV
#define SO_VMCI_PEER_LIMIT_PRIV		SO_VMCI_PEER_PRIV_LIMIT
#endif
#ifndef SO_VMCI_PEER_BURST_LEVEL
#define SO_VMCI_PEER_BURST_LEVEL	11
#endif

/* Version word: epoch (8 bits), major (8 bits), minor (16 bits). */
#ifndef VMCI_SOCKETS_INVALID_VERSION
#define VMCI_SOCKETS_INVALID_VERSION	0xFFFFFFFFU
#endif
#ifndef VMCI_SOCKETS_VERSION_EPOCH
#define VMCI_SOCKETS_VERSION_EPOCH(_v)	(((_v) & 0xFF000000U) >> 24)
#endif
#ifndef VMCI_SOCKETS_VERSION_MAJOR
#define VMCI_SOCKETS_VERSION_MAJOR(_v)	(((_v) & 0x00FF0000U) >> 16)
#endif
#ifndef VMCI_SOCKETS_VERSION_MINOR
#define VMCI_SOCKETS_VERSION_MINOR(_v)	((_v) & 0x0000FFFFU)
#endif

/*
 * /dev/vsock ioctls. Each takes a pointer to a 4-byte value; 1977 is also
 * upstream's IOCTL_VM_SOCKETS_GET_LOCAL_CID.
 */
#ifndef VMCI_SOCKETS_VERSION
#define VMCI_SOCKETS_VERSION		1972
#endif
#ifndef VMCI_SOCKETS_GET_AF_VALUE
#define VMCI_SOCKETS_GET_AF_VALUE	1976
#endif
#ifndef VMCI_SOCKETS_GET_LOCAL_CID
#define VMCI_SOCKETS_GET_LOCAL_CID	1977
#endif
/* ESX only; takes a struct uuid_2_cid. */
#ifndef VMCI_SOCKETS_UUID_2_CID
#define VMCI_SOCKETS_UUID_2_CID		1991
#endif

#ifndef VMCI_SOCKETS_HAVE_UUID_2_CID
#define VMCI_SOCKETS_HAVE_UUID_2_CID
/* 136 bytes: what ioctl 1991 reads and writes on ESX. */
struct uuid_2_cid {
	unsigned int u2c_context_id;
	unsigned int u2c_pad;
	char u2c_uuid_string[128];
};
#endif

#ifndef VMCI_SOCKETS_DEFAULT_DEVICE
#define VMCI_SOCKETS_DEFAULT_DEVICE	"/dev/vsock"
#endif
/*
 * When the in-tree vsock driver owns /dev/vsock (it fails every ioctl but
 * GET_LOCAL_CID, with ENOTTY or on old kernels EINVAL), vmsock.ko
 * registers this name instead.
 */
#ifndef VMCI_SOCKETS_VMSOCK_DEVICE
#define VMCI_SOCKETS_VMSOCK_DEVICE	"/dev/vmsock"
#endif

/*
 * The fixed family of in-tree vsock; if it already works there is no
 * device to hold open.
 */
#define VMCI_SOCKETS_AF_FIXED		40

/* Not every libc exposes O_CLOEXEC in strict ISO C modes. */
#ifdef O_CLOEXEC
#define VMCI_SOCKETS_O_CLOEXEC		O_CLOEXEC
#else
#define VMCI_SOCKETS_O_CLOEXEC		0
#endif

/* C89 has no inline; GCC and Clang accept __inline__ in every mode. */
#if defined(__GNUC__) || defined(__clang__)
#define VMCI_SOCKETS_INLINE		__inline__
#elif defined(__cplusplus) || \
	(defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L)
#define VMCI_SOCKETS_INLINE		inline
#else
#define VMCI_SOCKETS_INLINE
#endif

/*
 * Open @path and issue @request on it. Returns the fd, still open, or -1
 * with errno from whichever step failed.
 */
static VMCI_SOCKETS_INLINE int
vmci_sockets_try_device(const char *path, unsigned long request, void *arg)
{
	int fd, err;

	fd = open(path, O_RDONLY | VMCI_SOCKETS_O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (ioctl(fd, request, arg) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/*
 * Issue @request on /dev/vsock, or on /dev/vmsock when /dev/vsock is
 * missing or belongs to a driver that does not answer it.
 */
static VMCI_SOCKETS_INLINE int
vmci_sockets_device_ioctl(unsigned long request, void *arg)
{
	int fd, err;

	fd = vmci_sockets_try_device(VMCI_SOCKETS_DEFAULT_DEVICE, request, arg);
	if (fd >= 0)
		return fd;
	err = errno;
	fd = vmci_sockets_try_device(VMCI_SOCKETS_VMSOCK_DEVICE, request, arg);
	/*
	 * /dev/vmsock normally does not exist, so its absence says less
	 * than whatever went wrong with /dev/vsock.
	 */
	if (fd < 0 && errno == ENOENT)
		errno = err;
	return fd;
}

/*
 * The driver's version word, or VMCI_SOCKETS_INVALID_VERSION (errno set)
 * when no vSockets driver answers.
 */
static VMCI_SOCKETS_INLINE unsigned int VMCISock_Version(void)
{
	unsigned int version = VMCI_SOCKETS_INVALID_VERSION;
	int fd;

	fd = vmci_sockets_device_ioctl(VMCI_SOCKETS_VERSION, &version);
	if (fd < 0)
		return VMCI_SOCKETS_INVALID_VERSION;
	close(fd);
	return version;
}

/*
 * The address family for socket(), or -1 with errno set. On success
 * *outFd (if outFd is not NULL) is the descriptor that keeps the family
 * registered; pass it to VMCISock_ReleaseAFValueFd() once the sockets
 * exist. It is -1 when nothing needs holding open, and on failure.
 */
static VMCI_SOCKETS_INLINE int VMCISock_GetAFValueFd(int *outFd)
{
	int family = -1;
	int fd, s;

	if (outFd)
		*outFd = -1;

	s = socket(VMCI_SOCKETS_AF_FIXED, SOCK_DGRAM, 0);
	if (s >= 0) {
		close(s);
		return VMCI_SOCKETS_AF_FIXED;
	}

	fd = vmci_sockets_device_ioctl(VMCI_SOCKETS_GET_AF_VALUE, &family);
	if (fd < 0)
		return -1;
	if (family < 0) {
		/* The driver found no free family number. */
		close(fd);
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (outFd)
		*outFd = fd;
	return family;
}

/*
 * As VMCISock_GetAFValueFd(), for programs that cannot keep track of the
 * descriptor: it stays open, on purpose, until the process exits.
 */
static VMCI_SOCKETS_INLINE int VMCISock_GetAFValue(void)
{
	return VMCISock_GetAFValueFd(NULL);
}

static VMCI_SOCKETS_INLINE void VMCISock_ReleaseAFValueFd(int fd)
{
	if (fd >= 0)
		close(fd);
}

/*
 * This endpoint's context ID, or VMADDR_CID_ANY (errno set) when no
 * vSockets driver answers.
 */
static VMCI_SOCKETS_INLINE unsigned int VMCISock_GetLocalCID(void)
{
	unsigned int cid = VMADDR_CID_ANY;
	unsigned int version;
	int fd, s;

	/*
	 * Ask the driver whose family VMCISock_GetAFValue() hands out. When
	 * that is not family 40, it is the driver that answers VERSION: the
	 * in-tree /dev/vsock answers only GET_LOCAL_CID, for its own
	 * transports, and may say VMADDR_CID_ANY while vmsock has a CID.
	 */
	s = socket(VMCI_SOCKETS_AF_FIXED, SOCK_DGRAM, 0);
	if (s >= 0) {
		close(s);
	} else {
		fd = vmci_sockets_try_device(VMCI_SOCKETS_DEFAULT_DEVICE,
					     VMCI_SOCKETS_VERSION, &version);
		if (fd < 0)
			fd = vmci_sockets_try_device(VMCI_SOCKETS_VMSOCK_DEVICE,
						     VMCI_SOCKETS_VERSION, &version);
		if (fd >= 0) {
			if (ioctl(fd, VMCI_SOCKETS_GET_LOCAL_CID, &cid) < 0)
				cid = VMADDR_CID_ANY;
			close(fd);
			return cid;
		}
	}
	fd = vmci_sockets_device_ioctl(VMCI_SOCKETS_GET_LOCAL_CID, &cid);
	if (fd < 0)
		return VMADDR_CID_ANY;
	close(fd);
	return cid;
}

/*
 * Only ESX userworlds can map a VM's UUID to its CID; kept so that
 * programs which also target ESX still compile.
 */
static VMCI_SOCKETS_INLINE unsigned int
VMCISock_Uuid2ContextId(const char *uuidString)
{
	(void)uuidString;
	errno = EOPNOTSUPP;
	return VMADDR_CID_ANY;
}

#endif /* _UAPI_VMCI_SOCKETS_H */
