/**
 * The whole of the raw ICMPv6 helper, run as `python3 -c`. Node has no raw sockets and
 * no native addon is needed for this: Debian's python3 opens the socket (SOCK_RAW,
 * IPPROTO_ICMPV6) and only moves bytes. Every decision (what to send, when, to whom, what
 * a received message means) stays in TypeScript.
 *
 *   argv: INTERFACE TYPES GROUPS   e.g. br0 133 ff02::2   (TYPES, GROUPS comma-separated)
 *   stdout: "ready IFINDEX", then per datagram of an accepted type: "SOURCE HOPLIMIT HEX"
 *   stdin: per datagram to send: "DESTINATION HEX" (scoped to INTERFACE); EOF ends it.
 *   stderr + exit 2: what failed during setup.
 *
 * Sends go out with hop limit 255 and receives report the hop limit, because Neighbor
 * Discovery (RFC 4861 §6.1) rejects anything that crossed a router. The kernel fills in
 * and checks the ICMPv6 checksum of a raw ICMPv6 socket (RFC 3542 §3.1).
 */
export const RAW_ICMP6_SCRIPT = String.raw`
import os, select, socket, struct, sys
ifname, types, groups = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    idx = socket.if_nametoindex(ifname)
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, idx)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
    words = [0xFFFFFFFF] * 8
    for t in [int(x) for x in types.split(',') if x]:
        words[t >> 5] &= ~(1 << (t & 31))
    s.setsockopt(socket.IPPROTO_ICMPV6, 1, struct.pack('=8I', *words))
    for g in [x for x in groups.split(',') if x]:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, socket.inet_pton(socket.AF_INET6, g) + struct.pack('=I', idx))
except OSError as e:
    sys.stderr.write('%s: %s\n' % (ifname, e.strerror or e))
    sys.exit(2)
out = sys.stdout
out.write('ready %d\n' % idx)
out.flush()
pending = b''
while True:
    r, _, _ = select.select([s, 0], [], [])
    if s in r:
        data, anc, _, addr = s.recvmsg(65535, socket.CMSG_SPACE(4))
        hops = -1
        for level, kind, value in anc:
            if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_HOPLIMIT and len(value) >= 4:
                hops = struct.unpack('=i', value[:4])[0]
        out.write('%s %d %s\n' % (addr[0].split('%')[0], hops, data.hex()))
        out.flush()
    if 0 in r:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        pending += chunk
        while b'\n' in pending:
            line, pending = pending.split(b'\n', 1)
            try:
                dest, hexdata = line.decode().split(' ')
                s.sendto(bytes.fromhex(hexdata), (dest, 0, 0, idx))
            except (OSError, ValueError) as e:
                sys.stderr.write('send failed: %s\n' % e)
                sys.stderr.flush()
`;
