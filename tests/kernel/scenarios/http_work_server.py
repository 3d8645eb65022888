# SPDX-License-Identifier: MIT
"""http_work_server.py --port-file PATH [--design threads|single|fork] [--procs N] [--requests R]
                      [--cost-ms X]

An HTTP server built from Debian's python3 standard library (http.server, socketserver), for a
real load generator (ab, apache2-utils) to drive: every GET does about X ms (default 1) of
pure-Python CPU work and answers with its result. The designs are the stdlib's own:

  threads  http.server.ThreadingHTTPServer (socketserver.ThreadingMixIn): a new thread for every
           connection; ab opens one connection per request (no keep-alive), so a thread per
           request (the default)
  single   http.server.HTTPServer: one thread accepts and answers one connection at a time
  fork     socketserver.ForkingMixIn: a forked process for every connection

--procs N (default 1) pre-forks N processes that serve the one listening socket, each with the
design's server (the classic pre-fork server; with threads, the processes lever alone, the
thread per connection kept); the parent only counts the connections they finish.

It binds 127.0.0.1 on a free port, writes the port to PATH (written whole, then renamed, so
that a reader never sees half a number), serves R connections (default 400) and exits 0 once
every handler has finished (the stdlib's server_close() joins the threads, waits for the
children); it prints nothing. A client that does not come within 20 s is an error: a one-line
message, exit 1. Bad arguments: a one-line usage error on stderr, exit 2.
"""

import http.server
import os
import signal
import socketserver
import sys

import scenario_common

USAGE = "--port-file PATH [--design threads|single|fork] [--procs N] [--requests R] [--cost-ms X]"
DESIGNS = ("threads", "single", "fork")
ITERS_PER_MS = 25000  # of work()'s loop: about 1 ms on a current x86 core (as thread_per_request.py)
ACCEPT_TIMEOUT = 20  # seconds without a connection: the load generator is gone


def work(iters):
    x = 0
    for i in range(iters):
        x += i * i
    return x


class Handler(http.server.BaseHTTPRequestHandler):
    iters = ITERS_PER_MS
    # Buffered: the headers and the body leave in one send at the end (the default, unbuffered,
    # sends them apart, and ab then counts some responses as "Failed (Length)").
    wbufsize = -1

    def do_GET(self):
        body = b"%d\n" % work(self.iters)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass  # no access log: its writes to stderr would be part of what is measured


class ForkingHTTPServer(socketserver.ForkingMixIn, http.server.HTTPServer):
    pass


SERVERS = {"threads": http.server.ThreadingHTTPServer, "single": http.server.HTTPServer,
           "fork": ForkingHTTPServer}


def parse_args(argv):
    """The shared parser takes numeric values only: the two string options are taken out first."""
    opts = {"port_file": None, "design": "threads"}
    rest = [argv[0]]
    i = 1
    while i < len(argv):
        if argv[i] in ("--port-file", "--design"):
            if i + 1 >= len(argv):
                scenario_common.usage(os.path.basename(argv[0]), USAGE, "%s needs a value" % argv[i])
            opts[argv[i][2:].replace("-", "_")] = argv[i + 1]
            i += 2
        else:
            rest.append(argv[i])
            i += 1
    opts.update(scenario_common.parse(rest, USAGE, {}, {"--requests": (int, 1000000),
                                                        "--cost-ms": (float, 1000),
                                                        "--procs": (int, 64)},
                                      {"mode": None, "n": 0, "requests": 400, "cost_ms": 1.0,
                                       "procs": 1}))
    prog = os.path.basename(argv[0])
    if not opts["port_file"]:
        scenario_common.usage(prog, USAGE, "--port-file is required")
    if opts["design"] not in DESIGNS:
        scenario_common.usage(prog, USAGE, "unknown design %r" % opts["design"])
    return opts


def write_port(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, path)


def serve_counted(server, done_fd):
    """A pre-forked worker: serve until killed, one byte to done_fd per connection finished."""
    closing = server.shutdown_request

    def shutdown_request(request):
        closing(request)
        os.write(done_fd, b".")

    server.shutdown_request = shutdown_request
    while True:
        server.handle_request()


def prefork(server, procs, requests):
    """procs workers on server's socket; returns once they have finished `requests`
    connections, the workers killed (each is then idle in its accept)."""
    rfd, wfd = os.pipe()
    pids = []
    for _ in range(procs):
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            scenario_common.in_child(serve_counted, server, wfd)
        pids.append(pid)
    os.close(wfd)
    done = 0
    while done < requests:
        got = os.read(rfd, requests - done)
        if not got:
            sys.stderr.write("http_work_server: the workers exited after %d connections\n" % done)
            sys.exit(1)
        done += len(got)
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)


def main():
    opts = parse_args(sys.argv)
    Handler.iters = max(1, int(opts["cost_ms"] * ITERS_PER_MS))
    cls = SERVERS[opts["design"]]
    # socketserver's listen backlog is 5: a burst of ab's connections beyond it is refused or
    # reset (ab: "Connection reset by peer"); a server under load sets a deeper one.
    cls.request_queue_size = 128
    server = cls(("127.0.0.1", 0), Handler)
    server.timeout = ACCEPT_TIMEOUT
    server.handle_timeout = lambda: (sys.stderr.write("http_work_server: no client for %d s\n"
                                                      % ACCEPT_TIMEOUT), os._exit(1))
    write_port(opts["port_file"], server.server_address[1])
    if opts["procs"] > 1:
        prefork(server, opts["procs"], opts["requests"])
    else:
        for _ in range(opts["requests"]):
            server.handle_request()
    server.server_close()


if __name__ == "__main__":
    main()
