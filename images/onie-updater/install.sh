#!/bin/sh
# bootlab sample ONIE updater: built with `bootlab image build --updater`, which puts
# ONIE's updater cookie into the image header. Real ONIE runs an updater only in its
# update mode and refuses it for a NOS install; this one only reports what it would do.
sysroot="${ONIE_SYSROOT:-}"
machine_conf="$sysroot/etc/machine.conf"
[ -r "$machine_conf" ] && . "$machine_conf"
echo "ONIE updater (sample): would update ONIE on ${onie_platform:-an unknown platform} to 2025.05 (simulated)"
mkdir -p "$sysroot/mnt/onie-boot" || exit 1
echo "onie_update=2025.05 (simulated)" > "$sysroot/mnt/onie-boot/onie-update.log" || exit 1
