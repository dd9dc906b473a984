"""A minimal SOCKS5 server (RFC 1928) for the tests, on 127.0.0.1:0.

Usage: socks5_server.py [--user USER --password PASSWORD]

Ours (stdlib only) so that it can take a port of the OS's choosing and say,
line by line, what each client asked of it.

Without credentials it accepts only "no authentication" (0x00); with them,
only username/password (0x02, RFC 1929). Only CONNECT, to an IPv4 address, a
domain name (resolved here, as a proxy doing remote DNS does) or an IPv6
address. Bytes are relayed both ways: an end of stream from one side is
passed on to the other as a half close, a reset as a reset, and the pair is
closed once both directions have ended.

Prints its port on the first line, then one line per thing it did:
  connect HOST PORT       a CONNECT it performed (HOST as the client sent it)
  refused HOST PORT REP   a CONNECT that failed, with the reply code it sent
  auth-failed USER        a username/password it rejected
  no-method               a client that offered no method it accepts
"""
import argparse
import asyncio
import errno
import ipaddress
import os
import socket
import struct

VERSION = 5
NO_AUTH, USER_PASS, NO_ACCEPTABLE = 0x00, 0x02, 0xFF
USER_PASS_VERSION = 1
CONNECT = 0x01
ATYP_IPV4, ATYP_DOMAIN, ATYP_IPV6 = 0x01, 0x03, 0x04
# Reply codes (RFC 1928 section 6).
SUCCEEDED = 0x00
GENERAL_FAILURE = 0x01
NETWORK_UNREACHABLE = 0x03
HOST_UNREACHABLE = 0x04
CONNECTION_REFUSED = 0x05
COMMAND_NOT_SUPPORTED = 0x07
ADDRESS_TYPE_NOT_SUPPORTED = 0x08


def report(line):
    print(line, flush=True)


def reply(writer, code, sockname=("0.0.0.0", 0)):
    """A reply carrying the address the server bound for the connection."""
    address = ipaddress.ip_address(sockname[0])
    atyp = ATYP_IPV4 if address.version == 4 else ATYP_IPV6
    writer.write(bytes([VERSION, code, 0, atyp]) + address.packed + struct.pack("!H", sockname[1]))


async def negotiate(reader, writer, credentials):
    """The method selection and, with credentials, RFC 1929; True if the client may go on."""
    version, count = await reader.readexactly(2)
    methods = await reader.readexactly(count)
    if version != VERSION:
        return False
    wanted = USER_PASS if credentials else NO_AUTH
    # Each line is printed before the reply it explains is sent: once the
    # client has the reply, the line is on its way to whoever reads stdout.
    if wanted not in methods:
        report("no-method")
        writer.write(bytes([VERSION, NO_ACCEPTABLE]))
        return False
    writer.write(bytes([VERSION, wanted]))
    if not credentials:
        return True
    version, length = await reader.readexactly(2)
    user = await reader.readexactly(length)
    (length,) = await reader.readexactly(1)
    password = await reader.readexactly(length)
    accepted = version == USER_PASS_VERSION and (user, password) == credentials
    if not accepted:
        report(f"auth-failed {user.decode('utf-8', 'backslashreplace')}")
    # Any status but 0 is a failure, after which the server must close.
    writer.write(bytes([USER_PASS_VERSION, 0 if accepted else 1]))
    return accepted


async def read_request(reader, writer):
    """The CONNECT's (host, port), or None once a failure reply has been sent."""
    _version, command, _reserved, atyp = await reader.readexactly(4)
    if atyp == ATYP_IPV4:
        host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
    elif atyp == ATYP_DOMAIN:
        (length,) = await reader.readexactly(1)
        host = (await reader.readexactly(length)).decode("utf-8", "backslashreplace")
    elif atyp == ATYP_IPV6:
        host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
    else:
        # The address's length is unknown, so the rest cannot be read.
        reply(writer, ADDRESS_TYPE_NOT_SUPPORTED)
        return None
    (port,) = struct.unpack("!H", await reader.readexactly(2))
    if command != CONNECT:
        reply(writer, COMMAND_NOT_SUPPORTED)
        return None
    return host, port


def failure_code(error):
    if isinstance(error, ConnectionRefusedError):
        return CONNECTION_REFUSED
    if isinstance(error, socket.gaierror) or error.errno in (errno.EHOSTUNREACH, errno.ETIMEDOUT):
        return HOST_UNREACHABLE
    if error.errno == errno.ENETUNREACH:
        return NETWORK_UNREACHABLE
    return GENERAL_FAILURE


def reset(writer):
    """Close with a RST rather than a FIN, as the peer on the other side did."""
    if writer.transport.is_closing():
        return  # the side that failed: already gone
    # SO_LINGER with a zero timeout makes close() send a RST.
    writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def pipe(reader, writer, other_writer):
    """Copy reader to writer until end of stream, then half-close writer."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        # A reset on either side: pass it on and end both directions.
        reset(writer)
        reset(other_writer)


async def handle(client_reader, client_writer, credentials):
    upstream_writer = None
    try:
        if not await negotiate(client_reader, client_writer, credentials):
            return
        request = await read_request(client_reader, client_writer)
        if request is None:
            return
        host, port = request
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
        except OSError as error:
            code = failure_code(error)
            report(f"refused {host} {port} {code}")
            reply(client_writer, code)
            return
        report(f"connect {host} {port}")
        reply(client_writer, SUCCEEDED, upstream_writer.get_extra_info("sockname"))
        await asyncio.gather(
            pipe(client_reader, upstream_writer, client_writer),
            pipe(upstream_reader, client_writer, upstream_writer),
        )
    except (asyncio.IncompleteReadError, OSError):
        pass  # the client went away mid-handshake
    finally:
        for writer in (client_writer, upstream_writer):
            if writer is not None:
                writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    if (args.user is None) != (args.password is None):
        parser.error("--user and --password go together")
    # The bytes the client must send: argv as the OS gave it, not re-encoded.
    credentials = (os.fsencode(args.user), os.fsencode(args.password)) if args.user is not None else None
    server = await asyncio.start_server(
        lambda reader, writer: handle(reader, writer, credentials), "127.0.0.1", 0
    )
    report(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


asyncio.run(main())
