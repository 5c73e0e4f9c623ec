#!/bin/sh
# bootlab sample "diag" installer: a vendor diagnostics image, signed like a NOS but not
# a NOS. It records that diagnostics ran and leaves the NOS boot configuration alone; in
# scenarios it is the signed installer that a reference list does not name.
sysroot="${ONIE_SYSROOT:-}"
echo "Diag installer: running simulated hardware diagnostics"
for t in cpu memory asic fans psu; do echo "  $t: PASS"; done
mkdir -p "$sysroot/mnt/onie-boot" || exit 1
echo "diag_result=pass" > "$sysroot/mnt/onie-boot/diag-result.conf" || exit 1
echo "Diag installer: done"
