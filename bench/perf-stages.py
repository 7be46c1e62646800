"""Reads `perf script -F ip,sym,dso` (call graphs) on stdin; prints the share of samples that pass through
each stage of a Tessera token request (inclusive, so stages overlap) and where the leaf samples fall."""
import sys

# (name, frames that mark the stage[, a frame that must also be on the stack])
STAGES = [
    ("Kestrel request pipeline", ["HttpProtocol+<ProcessRequests>"]),
    ("  OpenIddict server dispatcher (all events)", ["OpenIddictServerDispatcher"]),
    ("    handler lookup and activation (GetHandlersAsync)", ["g__GetHandlersAsync"]),
    ("    handler filters (IsActiveAsync)", ["g__IsActiveAsync"]),
    ("    dependency injection (ResolveService)", ["ResolveService", "CallSiteRuntimeResolver"]),
    ("    access token generation (GenerateAccessToken)", ["GenerateAccessToken"]),
    ("    client secret check (ValidateClientSecret)", ["ValidateClientSecret"]),
    ("    JSON response", ["ProcessJsonResponse"]),
    ("  lean token path (LeanTokenPath: client_credentials and exchanges it answers itself)", ["LeanTokenPath"]),
    ("  on either path: writing the JWT (JsonWebTokenHandler.CreateToken, CompactJws)", ["JsonWebTokenHandler::CreateToken", "CompactJws::TryCreate"]),
    ("  on either path: Tessera's protocol code (Tessera.Protocol)", ["[tessera] Tessera.Protocol"]),
    ("  on either path: form parsing", ["FormFeature", "UrlEncodedForm::Parse"]),
    ("  EF Core / SQLite inside requests", ["EntityFrameworkCore", "Microsoft.Data.Sqlite"], "HttpProtocol+<ProcessRequests>"),
    ("Audit log writer (Tessera.Audit.AuditLog)", ["Tessera.Audit.AuditLog"]),
]
LEAVES = [("libcrypto (ECDSA, SHA-256)", "libcrypto"), ("kernel", "kernel"), ("libcoreclr (runtime, GC)", "libcoreclr"),
          ("libe_sqlite3", "libe_sqlite3"), ("libc", "libc.so")]

samples, current = [], []
for line in sys.stdin:
    if not line.strip():
        if current:
            samples.append(current)
        current = []
    else:
        current.append(line.strip())
if current:
    samples.append(current)
total = len(samples) or 1

print(f"\nperf: {len(samples)} samples of Tessera under /token load (inclusive share)")
for name, needles, *within in STAGES:
    hits = sum(1 for s in samples if any(n in f for f in s for n in needles)
               and all(any(w in f for f in s) for w in within))
    print(f"{100 * hits / total:5.1f}%  {name}")
print("leaf samples by library")
for name, needle in LEAVES:
    hits = sum(1 for s in samples if needle in s[0])
    print(f"{100 * hits / total:5.1f}%  {name}")
