#!/bin/sh
# bootlab NOS installer whose disk write takes a while: it writes its image in four parts,
# a second apart, printing each, before it repoints the boot loader (onie-nos-mode -s).
# Power lost before the last step leaves a half-written disk and ONIE still the boot
# default: the next boot is an install-mode boot that must start over. Runs on a real
# ONIE switch (ONIE_SYSROOT unset) and in a bootlab device sandbox.

fail()
{
    echo "ERROR: slow-disk NOS installer: $*"
    exit 1
}

cd "$(dirname "$0")" || fail "cannot enter the installer directory"
sysroot="${ONIE_SYSROOT:-}"
disk="${onie_disk:-$sysroot/dev/vda}"
. ./nos-release || fail "nos-release is missing"
. "$sysroot/etc/machine.conf" || fail "cannot read machine.conf"
[ "$(onie-sysinfo -p)" = "$onie_platform" ] || fail "onie-sysinfo -p disagrees with machine.conf ($onie_platform)"
echo "Installing $nos_name $nos_version on $onie_platform"

: > "$disk" || fail "cannot open $disk"
for part in 1 2 3 4 ; do
    echo "Writing the NOS image: part $part of 4"
    echo "BOOTLAB-SLOW-DISK-NOS part $part of 4 for $onie_platform" >> "$disk" || fail "cannot write $disk"
    [ "$part" = 4 ] || sleep 1
done

echo "Setting the ONIE NOS mode ..."
onie-nos-mode -s || fail "onie-nos-mode -s failed"
echo "$nos_name $nos_version installed"
exit 0
