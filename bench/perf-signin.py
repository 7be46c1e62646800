"""Reads `perf script -F comm,ip,sym,dso` of Tessera under brokered sign-in load (call graphs, JIT-compiled methods
named through DOTNET_PerfMapEnabled) on stdin; prints where the CPU samples fall: by the code they were in (leaf), by
the step of a sign-in they served (inclusive, each sample counted once, in the order below), and through a few
framework parts (inclusive, overlapping). With Tessera's CPU milliseconds per sign-in as the argument, also in ms.

Native frames without frame pointers (SQLite, OpenSSL) end their call chain, so their samples count under "not placed"
in the steps (by leaf there too)."""
import sys
from collections import Counter

# (name, frames that mark it); a sample goes to the first step one of whose frames is on its stack.
STEPS = [
    ("/token: the code redeemed (OpenIddict exchange, ID and access tokens)",
     ["OpenIddictServerHandlers+Exchange", "RedeemInOneTransaction"]),
    ("callback: upstream code and userinfo, user, session",
     ["UpstreamCallbackModel", "UpstreamSignIn+<CompleteAsync>", "UpstreamSignIn+<FinishAsync>", "UpstreamSignIn+<VerifyAsync>",
      "UpstreamSignIn+<AnswerAsync>", "OidcConnector+<CompleteAsync>", "OidcConnector+<RedeemCodeAsync>",
      "OidcConnector+<FetchUserInfoAsync>", "IdentityResolver", "ProvisionedUsers", "SessionStore+<CreateAsync>"]),
    ("/authorize, both visits (the upstream chosen; the code issued)",
     ["AuthorizeModel", "OpenIddictServerHandlers+Authentication", "GenerateAuthorizationCode", "SignInRouter",
      "UpstreamSignIn+<BeginAsync>", "OidcConnector+<BeginAsync>"]),
    ("other request work (Kestrel, middleware)", ["HttpProtocol+<ProcessRequests>"]),
    ("background writers (audit log, checkpoints, signals, sweeper, configuration, keys)",
     ["Tessera.Audit.AuditLog+", "AuditCheckpointWriter", "SignalDispatcher", "ExpiredRecordSweeper", "ConfigurationWatcher",
      "KeyRotationService", "KeyRing+<ChangedAsync>"]),
]
PARTS = [
    ("EF Core SaveChanges", ["DbContext+<SaveChangesAsync>", "DbContext::SaveChanges"]),
    ("EF Core queries", ["QueryCompiler::Execute", "SingleQueryingEnumerable", "QueryingEnumerable", "ExecuteDeleteAsync", "ExecuteUpdateAsync"]),
    ("Microsoft.Data.Sqlite (managed)", ["[Microsoft.Data.Sqlite]"]),
    ("OpenIddict token entries (create, update, find)", ["OpenIddictTokenManager"]),
    ("HttpClient (Tessera's calls to the upstream)", ["[System.Net.Http]"]),
    ("JsonWebTokenHandler (create, encrypt, validate)", ["JsonWebTokenHandler::"]),
    ("System.Text.Json", ["[System.Text.Json]"]),
    ("dependency injection (ResolveService)", ["ResolveService"]),
    ("Razor Pages invoker", ["PageActionInvoker"]),
    ("data protection", ["Microsoft.AspNetCore.DataProtection"]),
    ("antiforgery", ["Antiforgery"]),
    ("cookie authentication", ["CookieAuthenticationHandler"]),
    ("logging", ["[Microsoft.Extensions.Logging"]),
]


def read(stream):
    """Samples as (thread name, frames leaf first)."""
    samples, thread, frames = [], None, None
    for line in stream:
        if not line.strip():
            if frames is not None:
                samples.append((thread, frames))
            frames = None
        elif not line[0].isspace():
            thread, frames = line.strip().rsplit(None, 1)[0] if line.strip()[-1:].isdigit() else line.strip(), []
        elif frames is not None:
            frames.append(line.strip().split(" ", 1)[-1])
    if frames is not None:
        samples.append((thread, frames))
    return samples


def leaf(thread, frames):
    if thread.startswith(".NET Tiered Com"):
        return "JIT (the tiered compilation thread)"
    if not frames:
        return "unknown"
    dso = frames[0].rsplit("(", 1)[-1].rstrip(")")
    for needle, name in [("/tmp/perf-", "JIT-compiled .NET code"), ("kernel", "kernel"), ("libcoreclr", "the runtime (libcoreclr: GC, type system, stubs)"),
                         ("libclrjit", "JIT"), ("libe_sqlite3", "SQLite (native)"), ("libcrypto", "OpenSSL (libcrypto)"), ("libc.so", "libc")]:
        if needle in dso:
            return name
    return dso.rsplit("/", 1)[-1]


def main():
    samples = read(sys.stdin)
    total = len(samples) or 1
    per_sign_in = float(sys.argv[1]) if len(sys.argv) > 1 else None

    def row(count, name, indent=""):
        ms = f" {per_sign_in * count / total:6.2f} ms" if per_sign_in else ""
        print(f"{indent}{100 * count / total:5.1f}%{ms}  {name}")

    print(f"\nperf: {len(samples)} samples of Tessera under sign-in load" + (f", {per_sign_in:.2f} ms of CPU per sign-in" if per_sign_in else ""))
    print("\nwhere the samples were (leaf):")
    for name, count in Counter(leaf(t, f) for t, f in samples).most_common(10):
        row(count, name, "  ")

    print("\nwhich step they served (inclusive, each sample once):")
    placed, unplaced = Counter(), Counter()
    for thread, frames in samples:
        if thread.startswith(".NET Tiered Com"):
            placed["JIT (the tiered compilation thread)"] += 1
            continue
        for name, needles in STEPS:
            if any(n in f for f in frames for n in needles):
                placed[name] += 1
                break
        else:
            unplaced[leaf(thread, frames)] += 1
    for name in [s[0] for s in STEPS] + ["JIT (the tiered compilation thread)"]:
        row(placed[name], name, "  ")
    row(sum(unplaced.values()), "not placed: sockets, timers, and native code whose callers perf cannot see; by leaf:", "  ")
    for name, count in unplaced.most_common(5):
        row(count, name, "      ")

    print("\nthrough these parts (inclusive, overlapping):")
    for name, needles in PARTS:
        row(sum(1 for _, frames in samples if any(n in f for f in frames for n in needles)), name, "  ")


main()
