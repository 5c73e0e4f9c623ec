#!/bin/sh
# bootlab installer that hangs: it waits for a disk that never appears, as an installer
# built for another storage layout does. Real ONIE would wait for it forever; bootlab's
# sandbox ends it at onie.installerTimeout and ONIE's discovery moves on.
echo "Hung installer: waiting for /dev/sdz to appear ..."
while [ ! -e "${ONIE_SYSROOT:-}/dev/sdz" ] ; do
    sleep 1
done
echo "/dev/sdz appeared (it should not have)"
exit 1
