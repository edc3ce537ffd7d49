"""A small NetBox stand-in on loopback: serves recorded REST lists with NetBox's pagination and filters.

Answers ``limit``/``offset`` (default page 50, at most 1000, as NetBox), sets ``next``/``previous`` to its own
address, checks the ``Authorization: Token`` header, and filters by ``slug``, ``id``, ``site`` (slug; through
the panel for feeds and the device for ports) and ``device_type_id``. Any other query parameter answers 400,
so a test fails if the importer starts relying on a filter this server (and the tests) do not know.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FILTERS = {"slug", "id", "site", "device_type_id"}


def load_lists(folder: Path = FIXTURES) -> dict[str, list[dict]]:
    """``{"dcim/racks": [...], ...}`` from files named as the capture names them (pages merged)."""
    out: dict[str, list[dict]] = {}
    for path in sorted(folder.glob("*__*.json")):
        stem = path.stem
        parts = stem.split("__")
        if len(parts) > 2 and not parts[2].startswith("offset-"):
            continue  # brief, trace and elevation answers are not lists the importer reads
        body = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(body, dict) or "results" not in body:
            continue
        out.setdefault(f"{parts[0]}/{parts[1]}", []).extend(body["results"])
    return out


class FakeNetBox:
    def __init__(
        self, lists: dict[str, list[dict]], *, token: str = "0123456789abcdef0123456789abcdef01234567", max_page=1000
    ):
        self.lists = lists
        self.max_page = max_page
        self.token = token
        self.requests: list[str] = []
        self.status = json.loads((FIXTURES / "status.json").read_text())
        self._server: ThreadingHTTPServer | None = None

    # --- filters ------------------------------------------------------------------------------------
    def _site_of(self, endpoint: str, obj: dict) -> str | None:
        if isinstance(obj.get("site"), dict):
            return obj["site"].get("slug")
        if endpoint == "dcim/sites":
            return obj.get("slug")
        if endpoint == "dcim/power-feeds":
            panel = (obj.get("power_panel") or {}).get("id")
            return self._panel_site.get(panel)
        device = (obj.get("device") or {}).get("id")
        return self._device_site.get(device)

    def _index(self):
        self._panel_site = {p["id"]: p["site"]["slug"] for p in self.lists.get("dcim/power-panels", [])}
        self._device_site = {d["id"]: (d.get("site") or {}).get("slug") for d in self.lists.get("dcim/devices", [])}

    def answer(self, path: str, query: dict[str, list[str]], base: str) -> tuple[int, dict]:
        if path == "/api/status/":
            return 200, self.status
        endpoint = path.removeprefix("/api/").strip("/")
        if endpoint not in self.lists:
            return 404, {"detail": "Not found."}
        unknown = sorted(set(query) - FILTERS - {"limit", "offset", "brief"})
        if unknown:
            return 400, {"detail": f"this test server does not know the filter(s) {unknown}"}
        self._index()
        rows = self.lists[endpoint]
        for key, values in query.items():
            if key == "slug":
                rows = [r for r in rows if r.get("slug") in values]
            elif key == "id":
                rows = [r for r in rows if str(r.get("id")) in values]
            elif key == "site":
                rows = [r for r in rows if self._site_of(endpoint, r) in values]
            elif key == "device_type_id":
                rows = [r for r in rows if str((r.get("device_type") or {}).get("id")) in values]
        rows = sorted(rows, key=lambda r: r.get("id", 0))
        try:
            limit = min(int(query.get("limit", ["50"])[0]) or self.max_page, self.max_page)
            offset = int(query.get("offset", ["0"])[0])
        except ValueError:
            return 400, {"detail": "limit and offset are integers"}
        page = rows[offset : offset + limit]
        plain = {k: v for k, v in query.items() if k not in ("limit", "offset")}

        def link(at: int) -> str:
            return f"{base}{path}?{urlencode({**plain, 'limit': limit, 'offset': at}, doseq=True)}"

        return 200, {
            "count": len(rows),
            "next": link(offset + limit) if offset + limit < len(rows) else None,
            "previous": link(max(offset - limit, 0)) if offset > 0 else None,
            "results": page,
        }

    # --- serving --------------------------------------------------------------------------------------
    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                fake.requests.append(self.path)
                if self.headers.get("Authorization") != f"Token {fake.token}":
                    self._send(403, {"detail": "Invalid token"})
                    return
                split = urlsplit(self.path)
                base = f"http://{self.headers.get('Host')}"
                self._send(*fake.answer(split.path, parse_qs(split.query), base))

            def _send(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
