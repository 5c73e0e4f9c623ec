/**
 * The ONIE runtime commands an installer calls, as POSIX sh scripts written into the
 * sandbox. They follow ONIE's flags and output formats (onie.md §2.3, §3) but read the
 * sandbox (`$ONIE_SYSROOT/etc/machine.conf`, `$ONIE_SYSROOT/mnt/onie-boot/grubenv`)
 * instead of the switch's EEPROM and ONIE-BOOT partition.
 */

/** Finds the sandbox root: ONIE_SYSROOT, else the directory above the script's bin/. */
const LOCATE_ROOT = 'root="${ONIE_SYSROOT:-$(cd "$(dirname "$0")/.." && pwd)}"';

/**
 * grubenv access shared by the tools, named like the ONIE library that provides
 * onie_getenv/onie_setenv (lib/onie/onie-blkdev-common), which installers may source.
 * The file keeps GRUB's environment-block shape: a header line, NAME=value lines and '#'
 * padding to 1024 bytes.
 */
export const BLKDEV_COMMON = `# bootlab sandbox: grubenv access for the ONIE tools and installers.
onie_sysroot="\${ONIE_SYSROOT:-$(cd "$(dirname "$0")/.." && pwd)}"
onie_grubenv="$onie_sysroot/mnt/onie-boot/grubenv"

onie_getenv()
{
    [ -r "$onie_grubenv" ] || return 0
    awk -v key="$1" 'index($0, key "=") == 1 { val = substr($0, length(key) + 2) } END { print val }' "$onie_grubenv"
}

# onie_setenv NAME [VALUE]: without VALUE the name is removed, like grub-editenv unset.
onie_setenv()
{
    [ -f "$onie_grubenv" ] || : > "$onie_grubenv" || return 1
    awk -v key="$1" -v val="$2" -v set="$#" '
        /^#/ { next }
        index($0, key "=") == 1 { next }
        { body = body $0 "\\n" }
        END {
            if (set > 1) body = body key "=" val "\\n"
            out = "# GRUB Environment Block\\n" body
            while (length(out) < 1024) out = out "#"
            printf "%s", out
        }' "$onie_grubenv" > "$onie_grubenv.new.$$" && mv "$onie_grubenv.new.$$" "$onie_grubenv"
}
`;

export const ONIE_SYSINFO = `#!/bin/sh
# bootlab sandbox: onie-sysinfo with ONIE's flags and output, from the sandbox's
# machine.conf and lib/onie/sysinfo-platform (the EEPROM values).
${LOCATE_ROOT}
[ -r "$root/etc/machine.conf" ] && . "$root/etc/machine.conf"
[ -r "$root/lib/onie/sysinfo-platform" ] && . "$root/lib/onie/sysinfo-platform"

usage()
{
    echo "$(basename "$0") [-hsPelvibmrpcftdSa]"
    cat <<'EOF'
Dump ONIE system information.  The default is the ONIE platform (-p).

	-h  Help.  Print this message.
	-s  Serial number
	-P  Part number
	-e  Management Ethernet MAC address
	-l  Boot loader type (u-boot, uefi or bios)
	-v  ONIE version
	-i  ONIE vendor ID (IANA enterprise number)
	-b  ONIE build machine
	-m  ONIE machine
	-r  ONIE machine revision
	-p  ONIE platform.  This is the default.
	-c  ONIE CPU architecture
	-f  ONIE configuration version
	-t  ONIE partition type
	-d  ONIE build date
	-S  ONIE switch silicon vendor
	-a  All of the above, space separated.
EOF
}

want=""
[ $# -eq 0 ] && want="platform"
while getopts "hsPelvibmrpcftdSa" opt ; do
    case $opt in
        h) usage ; exit 0 ;;
        s) want="$want sn" ;;
        P) want="$want pn" ;;
        e) want="$want mac" ;;
        l) want="$want loader" ;;
        v) want="$want version" ;;
        i) want="$want vendor_id" ;;
        b) want="$want build_machine" ;;
        m) want="$want machine" ;;
        r) want="$want machine_rev" ;;
        p) want="$want platform" ;;
        c) want="$want arch" ;;
        f) want="$want config_version" ;;
        t) want="$want partition_type" ;;
        d) want="$want build_date" ;;
        S) want="$want switch_asic" ;;
        a) want="$want all" ;;
        *) echo "Unknown argument: $opt" ; usage ; exit 1 ;;
    esac
done

# Like ONIE, the EEPROM-backed values say "Unknown" when absent; print_val says "unknown".
serial_num="\${serial_num:-$(type get_serial_num_platform >/dev/null 2>&1 && get_serial_num_platform)}"
part_num="\${part_num:-$(type get_part_num_platform >/dev/null 2>&1 && get_part_num_platform)}"
eth_addr="\${onie_eth_addr:-$(type get_ethaddr_platform >/dev/null 2>&1 && get_ethaddr_platform)}"
if [ -z "$onie_firmware" ] ; then loader=u-boot
elif [ "$onie_firmware" = "uefi" ] ; then loader=uefi
else loader=bios
fi

out=""
print_val()
{
    [ -n "$out" ] && out="$out "
    out="$out\${1:-unknown}"
}
for key in sn pn mac loader version vendor_id build_machine machine machine_rev platform arch config_version partition_type build_date switch_asic ; do
    case " $want " in
        *" $key "*|*" all "*) ;;
        *) continue ;;
    esac
    case $key in
        sn) print_val "\${serial_num:-Unknown}" ;;
        pn) print_val "\${part_num:-Unknown}" ;;
        mac) print_val "\${eth_addr:-Unknown}" ;;
        loader) print_val "$loader" ;;
        *) eval "print_val \\"\\$onie_$key\\"" ;;
    esac
done
printf '%s\\n' "$out"
`;

export const ONIE_NOS_MODE = `#!/bin/sh
# bootlab sandbox: onie-nos-mode [-s|-c|-g] [-v], stored as onie_nos_mode in grubenv.
${LOCATE_ROOT}
[ -r "$root/etc/machine.conf" ] && . "$root/etc/machine.conf"
. "$root/lib/onie/onie-blkdev-common"

usage()
{
    echo "usage: $(basename "$0") [-s] [-c] [-g] [-v] [-h]"
    cat <<'EOF'
Get, set or clear the ONIE NOS mode.  Set means a NOS is installed.
Without arguments the current NOS mode is printed.

	-s  Set the NOS mode.
	-c  Clear the NOS mode.
	-g  Get the current NOS mode.
	-v  Be verbose.
	-h  Help.  Print this message.
EOF
}

set=no ; clear=no ; get=no ; verbose=no
while getopts "hcsgv" opt ; do
    case $opt in
        h) usage ; exit 0 ;;
        c) clear=yes ;;
        s) set=yes ;;
        g) get=yes ;;
        v) verbose=yes ;;
        *) echo "Unknown argument: $opt" ; usage ; exit 1 ;;
    esac
done

if [ "$set" = "yes" ] && [ "$clear" = "yes" ] ; then
    echo "ERROR: $(basename "$0"): Only one of '-c' or '-s' can be specified"
    exit 1
fi

if [ "$set" = "yes" ] ; then
    [ "$verbose" = "yes" ] && echo "Enabling NOS mode."
    onie_setenv onie_nos_mode yes || { echo "ERROR: Enabling NOS mode failed." ; exit 1 ; }
    # On GRUB platforms ONIE also clears the one-shot boot mode (onie-boot-mode -o none).
    if [ -n "$onie_firmware" ] ; then
        "$root/bin/onie-boot-mode" -q -o none || exit 1
    fi
elif [ "$clear" = "yes" ] ; then
    [ "$verbose" = "yes" ] && echo "Disabling NOS mode."
    onie_setenv onie_nos_mode || { echo "ERROR: Clearing NOS mode failed." ; exit 1 ; }
else
    get=yes
fi

if [ "$get" = "yes" ] ; then
    mode="$(onie_getenv onie_nos_mode)"
    mode="\${mode:-none}"
    if [ "$verbose" = "yes" ] ; then echo "Current NOS mode: $mode" ; else echo "$mode" ; fi
fi
exit 0
`;

export const ONIE_BOOT_MODE = `#!/bin/sh
# bootlab sandbox: onie-boot-mode [-o <mode>] [-l] [-q] [-v], stored as onie_mode in grubenv.
${LOCATE_ROOT}
. "$root/lib/onie/onie-blkdev-common"

usage()
{
    echo "usage: $(basename "$0") [-o <onie_mode>] [-lhvq]"
    cat <<'EOF'
Get or set the default ONIE boot mode.  The default is to show the current one.

	-o  Set the mode: install, rescue, uninstall, update, embed, diag or none.
	-l  List the current default mode.  This is the default.
	-q  Quiet.
	-v  Be verbose.
	-h  Help.  Print this message.
EOF
}

mode="" ; list=no ; verbose=no
while getopts "o:lhvq" opt ; do
    case $opt in
        h) usage ; exit 0 ;;
        o) mode="$OPTARG" ;;
        l) list=yes ;;
        q) ;;
        v) verbose=yes ;;
        *) echo "Unknown argument: $opt" ; usage ; exit 1 ;;
    esac
done

case "$mode" in
    "") ;;
    install|uninstall|rescue|update|embed|diag)
        [ "$verbose" = "yes" ] && echo "Setting ONIE mode to: $mode"
        onie_setenv onie_mode "$mode" || exit 1
        ;;
    none)
        [ "$verbose" = "yes" ] && echo "Clearing the ONIE mode"
        onie_setenv onie_mode || exit 1
        ;;
    *)
        echo "ERROR: Unknown ONIE mode: $mode"
        exit 1
        ;;
esac

if [ -z "$mode" ] || [ "$list" = "yes" ] ; then
    current="$(onie_getenv onie_mode)"
    echo "Default boot: ONIE mode: \${current:-unknown}"
fi
exit 0
`;
