# Independent VMs two at a time. Under TCG a VM keeps about one core busy,
# and the CI machine has two: a VM that depends on no other (its own
# initramfs, log directory and host-side sockets) runs as a background job
# while the next one boots.
#
# Each job writes its records to its own file and its output to its own log
# (under $OUT_DIR/jobs/<n>-NAME); vm_jobs_wait replays both in the order the
# jobs were started, so results.txt and the log read the same whatever order
# the VMs finished in. A job that records nothing is a failure.
# VMCI_TEST_VM_JOBS=1 gives the old one-after-another behaviour.
# shellcheck shell=bash

VM_JOBS=${VMCI_TEST_VM_JOBS:-2}
# The started jobs, in start order: their directories and process ids.
VM_JOB_DIRS=()
VM_JOB_PIDS=()

# vm_jobs_running: how many started jobs have not finished.
vm_jobs_running() {
	local i n=0
	for i in "${!VM_JOB_PIDS[@]}"; do
		[ -f "${VM_JOB_DIRS[$i]}/done" ] && continue
		kill -0 "${VM_JOB_PIDS[$i]}" 2>/dev/null && n=$((n + 1))
	done
	echo "$n"
}

# vm_job NAME FUNCTION [ARGS...]: FUNCTION ARGS as a job, started once fewer
# than VM_JOBS jobs run. Whatever FUNCTION needs from the host (modules,
# intree copies, the QEMU binary) must be ready before: jobs share nothing
# but the read-only inputs and the VM count.
vm_job() {
	local name=$1 dir
	shift
	dir=$OUT_DIR/jobs/$(printf '%02d' "${#VM_JOB_DIRS[@]}")-$name
	while [ "$(vm_jobs_running)" -ge "$VM_JOBS" ]; do
		sleep 2
	done
	mkdir -p "$dir"
	: >"$dir/results"
	say "$name: started (its output follows when the jobs are collected)"
	# shellcheck disable=SC2030 # the job's own results file, on purpose
	(
		RESULTS_FILE=$dir/results
		start=$SECONDS
		"$@"
		echo "$((SECONDS - start))" >"$dir/seconds"
		touch "$dir/done"
	) >"$dir/log" 2>&1 </dev/null &
	VM_JOB_DIRS+=("$dir")
	VM_JOB_PIDS+=("$!")
}

# vm_jobs_wait: waits for every job, then replays their output and records
# in start order.
vm_jobs_wait() {
	local i dir name
	# A job that ended long ago may be unknown to wait: bash forgets a
	# finished job once a new process gets its pid. Its done file, checked
	# below, says whether it ran to its end.
	for i in "${!VM_JOB_PIDS[@]}"; do
		wait "${VM_JOB_PIDS[$i]}" 2>/dev/null
	done
	for i in "${!VM_JOB_DIRS[@]}"; do
		dir=${VM_JOB_DIRS[$i]}
		name=${dir##*/}
		name=${name#*-}
		say "$name: output (job took $(cat "$dir/seconds" 2>/dev/null || echo '?')s)"
		cat "$dir/log"
		# shellcheck disable=SC2031 # the run's file, not the job's
		cat "$dir/results" >>"$RESULTS_FILE"
		[ -f "$dir/done" ] || record FAIL "$name:job" "the job died before its end (log: $dir/log)"
		[ -s "$dir/results" ] || record FAIL "$name:job" "the job recorded nothing (log: $dir/log)"
	done
	VM_JOB_DIRS=()
	VM_JOB_PIDS=()
}
