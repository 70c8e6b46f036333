"""`collection serve DIR`: serve a built tree on localhost (read-only, static files only)."""

from __future__ import annotations

import argparse
import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from collection_compiler.errors import CollectionError
from collection_compiler.settings import Settings


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".yaml": "text/yaml; charset=utf-8",
                      ".json": "application/json", ".xml": "application/atom+xml"}

    def end_headers(self) -> None:
        self.send_header("Access-Control-Allow-Origin", "*")  # consumers fetch collection.json cross-origin
        super().end_headers()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code == 404 and page.is_file():
            body = page.read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().send_error(code, message, explain)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", type=Path, help="a built tree (the --out of build, run or demo)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (0: any free port)")
    parser.add_argument("--bind", default="127.0.0.1", help="address to listen on (default: localhost only)")


def make_server(directory: Path, bind: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    handler = functools.partial(_Handler, directory=str(directory))
    return ThreadingHTTPServer((bind, port), handler)


def main(args: argparse.Namespace, settings: Settings) -> int:
    if not (args.directory / "collection.json").is_file():
        raise CollectionError("holds no collection.json", where=str(args.directory),
                              hint="build it first: collection demo --out DIR, or collection build --out DIR")
    try:
        server = make_server(args.directory, args.bind, args.port)
    except OSError as e:
        raise CollectionError(f"cannot listen on {args.bind}:{args.port}: {e.strerror or e}",
                              hint="is another server running there? try --port 8001, or --port 0 for any") from e
    print(f"Serving {args.directory} at http://{args.bind}:{server.server_address[1]}/  (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
