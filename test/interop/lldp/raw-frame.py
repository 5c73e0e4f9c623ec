"""Raw Ethernet frames for the LLDP interop test (run inside a namespace, as root).

  raw-frame.py capture DEV SECONDS [NEEDLE_HEX]  prints the first LLDP frame (hex) seen on DEV
                                               that contains NEEDLE; exits 1 after SECONDS
  raw-frame.py send DEV FRAME_HEX COUNT GAP_S    sends the frame COUNT times, GAP_S apart

Python, because Node has no AF_PACKET socket; this stays a thin pipe, the decoding is ours.
"""
import binascii
import socket
import sys
import time

ETH_P_LLDP = 0x88CC


def capture(dev, seconds, needle):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_LLDP))
    s.bind((dev, 0))
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            sys.stderr.write("no LLDP frame%s on %s within %s s\n" % (" with " + needle.hex() if needle else "", dev, seconds))
            return 1
        s.settimeout(left)
        try:
            frame, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        # addr[2] is the packet type: 4 = PACKET_OUTGOING, our own side's frames.
        if addr[2] == 4 or (needle and needle not in frame):
            continue
        print(binascii.hexlify(frame).decode())
        return 0


def send(dev, frame, count, gap):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((dev, 0))
    for i in range(count):
        s.send(frame)
        if i + 1 < count:
            time.sleep(gap)
    return 0


def main(argv):
    if len(argv) >= 3 and argv[0] == "capture":
        return capture(argv[1], float(argv[2]), binascii.unhexlify(argv[3]) if len(argv) > 3 else b"")
    if len(argv) == 5 and argv[0] == "send":
        return send(argv[1], binascii.unhexlify(argv[2]), int(argv[3]), float(argv[4]))
    sys.stderr.write(__doc__)
    return 2


sys.exit(main(sys.argv[1:]))
