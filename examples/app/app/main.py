"""Example app for fairlead: the FastAPI backend (the API and a WebSocket); fairlead serves its React
frontend (../frontend/dist) itself, so only /api/, /ws/ and /healthz reach this app.

Run: cd examples/app && /usr/bin/python3 -m uvicorn app.main:app --host 127.0.0.1 --port 8000 --no-proxy-headers
(the app reads X-Forwarded-For itself; see ForwardedClient). Uses only Debian bookworm packages
(python3-fastapi, python3-uvicorn, python3-websockets; python3-psycopg and -pool for PostgreSQL). Items
are kept in SQLite, or in PostgreSQL when DATABASE_URL is set (app/storage.py).
"""

import asyncio
import hashlib
import os
from typing import Optional

from fastapi import FastAPI, HTTPException, Query, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from .pattern import chunks
from .storage import Items, open_items

app = FastAPI(title="fairlead example app")


class ForwardedClient(ProxyHeadersMiddleware):
    """The client address from X-Forwarded-For, for requests from a trusted proxy (fairlead).

    uvicorn 0.17, as Debian bookworm ships it, takes the rightmost untrusted address of
    X-Forwarded-For and gives up (client None, logged as "None:0") when every address is trusted,
    which is the case for a browser on the same machine as fairlead. The leftmost address is then
    the client, as later uvicorn releases decide. Run uvicorn with --no-proxy-headers, so that its
    own copy of the middleware does not run first.
    """

    def get_trusted_client_host(self, x_forwarded_for_hosts):
        return super().get_trusted_client_host(x_forwarded_for_hosts) or x_forwarded_for_hosts[0]


# Only fairlead, on this machine, may say who the client is.
app.add_middleware(ForwardedClient, trusted_hosts=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"))


# --- storage: SQLite, or PostgreSQL when DATABASE_URL is set (app/storage.py) -----------------

@app.on_event("startup")
def open_storage() -> None:
    app.state.items = open_items()


def items() -> Items:
    return app.state.items


class ItemIn(BaseModel):
    name: str
    description: Optional[str] = None


class Item(ItemIn):
    id: int


# --- API ----------------------------------------------------------------------------------------

@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.get("/api/items", response_model=list[Item])
def list_items():
    return items().all()


@app.post("/api/items", response_model=Item, status_code=201)
def create_item(item: ItemIn):
    return {"id": items().create(item.name, item.description), **item.dict()}


@app.get("/api/items/{item_id}", response_model=Item)
def get_item(item_id: int):
    found = items().get(item_id)
    if found is None:
        raise HTTPException(status_code=404, detail="item not found")
    return found


@app.put("/api/items/{item_id}", response_model=Item)
def update_item(item_id: int, item: ItemIn):
    if not items().update(item_id, item.name, item.description):
        raise HTTPException(status_code=404, detail="item not found")
    return {"id": item_id, **item.dict()}


@app.delete("/api/items/{item_id}", status_code=204)
def delete_item(item_id: int):
    if not items().delete(item_id):
        raise HTTPException(status_code=404, detail="item not found")
    return Response(status_code=204)


@app.get("/api/stream")
def stream(mib: int = Query(64, ge=0, le=4096), chunked: bool = False):
    """mib MiB of app.pattern bytes; with Content-Length unless chunked=true."""
    headers = {} if chunked else {"Content-Length": str(mib * 1024 * 1024)}
    return StreamingResponse(chunks(mib), media_type="application/octet-stream", headers=headers)


@app.post("/api/upload")
async def upload(request: Request):
    """Reads the body as it arrives (never whole in memory) and reports its size and sha256."""
    digest, size = hashlib.sha256(), 0
    async for piece in request.stream():
        digest.update(piece)
        size += len(piece)
    return {"bytes": size, "sha256": digest.hexdigest()}


@app.get("/api/slow")
async def slow(ms: int = Query(1000, ge=0, le=600_000)):
    await asyncio.sleep(ms / 1000)
    return {"slept_ms": ms}


@app.api_route("/api/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def echo(request: Request):
    """What the app saw: used to check the X-Forwarded-* and X-Request-Id headers a proxy sets."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():  # names are lower-case; repeats are joined (RFC 9110 §5.3)
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return {
        "method": request.method,
        "path": request.url.path,
        "query": request.url.query,
        "client": request.client.host if request.client else None,
        "headers": headers,
    }


@app.websocket("/ws/echo")
async def ws_echo(ws: WebSocket):
    await ws.accept()
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await ws.send_text(message["text"])
            elif message.get("bytes") is not None:
                await ws.send_bytes(message["bytes"])
    except WebSocketDisconnect:
        pass

