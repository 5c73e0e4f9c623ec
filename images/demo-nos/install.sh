#!/bin/sh
# bootlab demo NOS installer. It runs on a real ONIE switch (ONIE_SYSROOT unset: paths
# are the real /etc, /dev, /mnt) and in a bootlab device sandbox, which runs installers
# unprivileged and exports ONIE_SYSROOT as the directory that stands in for the root
# file system. It "installs" a tiny NOS image on the disk, writes a boot entry, and tells
# ONIE that a NOS is installed.

fail()
{
    echo "ERROR: demo NOS installer: $*"
    exit 1
}

cd "$(dirname "$0")" || fail "cannot enter the installer directory"
installer_dir=$(pwd)
sysroot="${ONIE_SYSROOT:-}"
# Taken before machine.conf is sourced, so that file cannot change where we write.
disk="${onie_disk:-$sysroot/dev/vda}"
boot_conf="$sysroot/mnt/onie-boot/nos-boot.conf"

[ -r ./nos-release ] || fail "nos-release is missing from the installer"
. ./nos-release
echo "Demo NOS installer: $nos_name $nos_version"

machine_conf="$sysroot/etc/machine.conf"
[ -r "$machine_conf" ] || fail "cannot read $machine_conf"
. "$machine_conf"
[ -n "$onie_platform" ] || fail "$machine_conf does not set onie_platform"
echo "Platform from $machine_conf: $onie_platform"

sysinfo_platform=$(onie-sysinfo -p) || fail "onie-sysinfo -p failed"
[ "$sysinfo_platform" = "$onie_platform" ] ||
    fail "onie-sysinfo -p says '$sysinfo_platform' but machine.conf says '$onie_platform'"
echo "onie-sysinfo -p agrees: $sysinfo_platform"

echo "Writing the NOS image to $disk ..."
{
    echo "BOOTLAB-DEMO-NOS-IMAGE v1"
    echo "nos_name=$nos_name"
    echo "nos_version=$nos_version"
    echo "platform=$onie_platform"
    echo "installer_files:"
    (LC_ALL=C; export LC_ALL; find . -type f | sort | while read -r f ; do
        echo "  $f $(wc -c < "$f" | tr -d ' ')"
    done)
} > "$disk" || fail "cannot write the NOS image to $disk"

echo "Writing the boot entry $boot_conf ..."
mkdir -p "$(dirname "$boot_conf")" || fail "cannot create $(dirname "$boot_conf")"
cat > "$boot_conf" <<BOOT || fail "cannot write $boot_conf"
# Boot entry written by the bootlab demo NOS installer.
title="$nos_name $nos_version"
platform=$onie_platform
root=$disk
BOOT

echo "Setting the ONIE NOS mode ..."
onie-nos-mode -s || fail "onie-nos-mode -s failed"

echo "Demo NOS $nos_version installed on $onie_platform from $installer_dir"
exit 0
