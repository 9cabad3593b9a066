// SPDX-License-Identifier: GPL-2.0
/*
 * Unix-socket side of the host context; see vmci_bridge.h for the layout.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmci_bridge.h"

#define BUF_SIZE (VMM_BRIDGE_HDR + VMM_MAX_DG_SIZE)

static int unix_addr(struct sockaddr_un *sa, const char *dir, const char *name)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s", dir,
			     name) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

static int bind_dgram(const char *dir, const char *name, int *fd)
{
	struct sockaddr_un sa;
	int ret = unix_addr(&sa, dir, name);

	if (ret)
		return ret;
	*fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return -errno;
	unlink(sa.sun_path);
	if (bind(*fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -errno;
	return 0;
}

static int listen_stream(const char *dir, int *fd)
{
	struct sockaddr_un sa;
	int ret = unix_addr(&sa, dir, VMM_BRIDGE_STREAM_NAME);

	if (ret)
		return ret;
	*fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return -errno;
	unlink(sa.sun_path);
	if (bind(*fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(*fd, 16))
		return -errno;
	return 0;
}

int vmm_bridge_open(struct vmm_bridge *b, struct vmci_model *m, const char *dir)
{
	int ret;

	memset(b, 0, sizeof(*b));
	for (int i = 0; i < VMM_BRIDGE_MAX_STREAMS; i++)
		b->streams[i].fd = -1;
	b->model = m;
	b->dgram_fd = -1;
	b->control_fd = -1;
	b->listen_fd = -1;
	b->next_port = 49152;
	b->next_rid = 0x10000;
	if (strlen(dir) >= sizeof(b->dir))
		return -ENAMETOOLONG;
	strcpy(b->dir, dir);
	b->buf = malloc(BUF_SIZE);
	if (!b->buf)
		return -ENOMEM;
	ret = bind_dgram(dir, VMM_BRIDGE_DGRAM_NAME, &b->dgram_fd);
	if (!ret)
		ret = bind_dgram(dir, VMM_BRIDGE_CONTROL_NAME, &b->control_fd);
	if (!ret)
		ret = listen_stream(dir, &b->listen_fd);
	if (ret)
		goto fail;
	return 0;
fail:
	vmm_bridge_close(b);
	return ret;
}

void vmm_bridge_close(struct vmm_bridge *b)
{
	vmm_stream_close_all(b);
	if (b->dgram_fd >= 0)
		close(b->dgram_fd);
	if (b->control_fd >= 0)
		close(b->control_fd);
	if (b->listen_fd >= 0)
		close(b->listen_fd);
	b->dgram_fd = -1;
	b->control_fd = -1;
	b->listen_fd = -1;
	free(b->buf);
	b->buf = NULL;
}

int64_t vmm_bridge_from_guest(struct vmm_bridge *b, const uint8_t *dg, size_t len)
{
	uint32_t port = vmm_get32(dg + 4);
	size_t payload = len - VMM_DG_HEADER_SIZE;
	struct sockaddr_un sa;
	char name[32];

	if (b->dgram_fd < 0)
		return VMM_ERROR_DST_UNREACHABLE;
	/* The hypervisor's only resource reaching here: its stream endpoints. */
	if (vmm_get32(dg) == VMM_HYPERVISOR_CID)
		return port == VMM_RID_HV_VSOCK_PACKET ? vmm_stream_packet(b, dg, len) :
				    VMM_ERROR_INVALID_RESOURCE;
	/* RID 1 of the host is its vSockets control channel. */
	if (port == 1)
		return vmm_stream_packet(b, dg, len);
	snprintf(name, sizeof(name), "dgram-%u", port);
	if (unix_addr(&sa, b->dir, name))
		return VMM_ERROR_DST_UNREACHABLE;
	vmm_put32(b->buf, vmm_get32(dg + 12));
	vmm_put32(b->buf + 4, port);
	memcpy(b->buf + VMM_BRIDGE_HDR, dg + VMM_DG_HEADER_SIZE, payload);
	if (sendto(b->dgram_fd, b->buf, VMM_BRIDGE_HDR + payload, MSG_DONTWAIT,
		   (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		b->dropped++;
		if (errno == EAGAIN || errno == ENOBUFS)
			return VMM_ERROR_NO_RESOURCES;
		/* Nobody bound there: like a host port with no socket. */
		return VMM_ERROR_DST_UNREACHABLE;
	}
	b->to_host++;
	return VMM_SUCCESS;
}

void vmm_bridge_dgram_readable(struct vmm_bridge *b)
{
	static uint8_t dg[VMM_MAX_DG_SIZE];
	ssize_t n;
	size_t payload;
	uint32_t guest_port;

	/* Bounded, so a flooding host program cannot starve the guest. */
	for (int i = 0; i < 64; i++) {
		n = recv(b->dgram_fd, b->buf, BUF_SIZE, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0)
			return;
		if ((size_t)n < VMM_BRIDGE_HDR || (size_t)n > BUF_SIZE) {
			b->dropped++;
			continue;
		}
		payload = n - VMM_BRIDGE_HDR;
		guest_port = vmm_get32(b->buf);
		vmm_put_header(dg, b->model->cid, guest_port, VMM_HOST_CID,
			       vmm_get32(b->buf + 4), payload);
		memcpy(dg + VMM_DG_HEADER_SIZE, b->buf + VMM_BRIDGE_HDR, payload);
		if (vmm_deliver(b->model, dg, VMM_DG_HEADER_SIZE + payload))
			b->dropped++;
		else
			b->to_guest++;
	}
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || end == s || *end || v < INT32_MIN || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int vmm_bridge_command(struct vmm_bridge *b, const char *cmd)
{
	char verb[16], a[24], c[24], d[24];
	uint32_t x, y;
	int n;

	n = sscanf(cmd, "%15s %23s %23s %23s", verb, a, c, d);
	if (n < 1)
		return -EINVAL;
	if (!strcmp(verb, "reset") && n == 1) {
		vmm_reset(b->model);
		return 0;
	}
	if (!strcmp(verb, "cid") && n == 2 && !parse_u32(a, &x)) {
		if (x <= VMM_HOST_CID || x == VMM_INVALID_ID)
			return -EINVAL;
		/* The host's connections were to the old context. */
		vmm_stream_detach_all(b);
		vmm_set_cid(b->model, x);
		return 0;
	}
	if (!strcmp(verb, "event") && n == 2 && !parse_u32(a, &x)) {
		if (x == VMM_EVENT_QP_RESUMED)
			return vmm_qp_resume(b->model) ? -EINVAL : 0;
		return vmm_raise_event(b->model, x, NULL, 0) ? -EINVAL : 0;
	}
	if (!strcmp(verb, "fail") && n == 3 && !parse_u32(a, &x) &&
	    !parse_u32(c, &y) && x < VMM_RID_RESOURCE_MAX && (int32_t)y < 0) {
		b->model->fail_rid = x;
		b->model->fail_result = (int32_t)y;
		return 0;
	}
	if (!strcmp(verb, "ring") && n == 3 && !parse_u32(a, &x) && !parse_u32(c, &y))
		return vmm_ring_doorbell(b->model, x, y) ? -EINVAL : 0;
	if (!strcmp(verb, "qpdetach") && n == 3 && !parse_u32(a, &x) && !parse_u32(c, &y))
		return vmm_stream_host_detach(b, x, y);
	if (!strcmp(verb, "junk") && n == 4 && !strcmp(a, "qhead") &&
	    !parse_u32(c, &x) && !parse_u32(d, &y))
		return vmm_stream_garble(b, x, y);
	if (!strcmp(verb, "junk") && n == 2)
		return vmm_inject_junk(b->model, a) ? -EINVAL : 0;
	return -EINVAL;
}

void vmm_bridge_control_readable(struct vmm_bridge *b)
{
	struct sockaddr_un from;
	socklen_t flen;
	char cmd[128];
	const char *reply;
	ssize_t n;

	for (int i = 0; i < 16; i++) {
		flen = sizeof(from);
		n = recvfrom(b->control_fd, cmd, sizeof(cmd) - 1, MSG_DONTWAIT,
			     (struct sockaddr *)&from, &flen);
		if (n < 0)
			return;
		cmd[n] = 0;
		if (n && cmd[n - 1] == '\n')
			cmd[n - 1] = 0;
		reply = vmm_bridge_command(b, cmd) ? "ERR bad command" : "OK";
		if (flen > sizeof(sa_family_t))
			sendto(b->control_fd, reply, strlen(reply), MSG_DONTWAIT,
			       (struct sockaddr *)&from, flen);
	}
}
