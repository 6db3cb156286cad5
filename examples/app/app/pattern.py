"""The deterministic byte stream served by GET /api/stream.

Kept free of FastAPI imports so a client (tests/e2e) can recompute the same bytes and compare
sha256 digests. Every 64 KiB chunk starts with its own index, so a proxy that drops, repeats or
reorders whole chunks changes the digest, not only one that corrupts bytes.
"""

CHUNK_BYTES = 64 * 1024
_BLOCK = bytes(range(256)) * (CHUNK_BYTES // 256)


def chunks(mib: int):
    """Yield mib MiB as 64 KiB chunks: chunk i is i (8 bytes, big-endian) + a fixed 0..255 ramp."""
    for i in range(mib * (1024 * 1024 // CHUNK_BYTES)):
        yield i.to_bytes(8, "big") + _BLOCK[8:]
