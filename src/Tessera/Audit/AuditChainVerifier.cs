using System.Globalization;
using Tessera.Storage;

namespace Tessera.Audit;

/// <summary>
/// Walks audit rows in id order once, holding only a small window of them, and reports the first place the chain does
/// not hold: a row whose hash does not match its content, a row whose previous_hash is not the hash of the row before
/// it (told apart as inserted, reordered, deleted or rewritten by the rows around it), or a signed checkpoint that the
/// rows contradict. Only a checkpoint can reveal rows removed from the end, or a history rewritten from some row on
/// with every hash recomputed.
/// </summary>
public static class AuditChainVerifier
{
    /// <summary>How many rows behind and ahead of a broken link are looked at to say what happened there.</summary>
    private const int Window = 64;

    /// <param name="rows">Rows in id order (<see cref="AuditRows.ReadAsync"/>).</param>
    /// <param name="checkpoints">Checkpoints whose signatures were verified, in any order.</param>
    /// <param name="start">Where the rows continue from; null for a walk over the whole log, which starts either at the
    /// first row ever written or, when retention removed older rows, at the checkpoint whose head the first row follows.</param>
    public static async Task<AuditVerification> VerifyAsync(IAsyncEnumerable<AuditRecord> rows, IReadOnlyList<AuditCheckpoint> checkpoints,
        AuditChainStart? start = null, CancellationToken cancellationToken = default)
    {
        var ordered = checkpoints.OrderBy(c => c.HeadId).ToList();
        await using var enumerator = rows.GetAsyncEnumerator(cancellationToken);
        var walk = new Walk(ordered);

        if (!await enumerator.MoveNextAsync())
        {
            walk.StartAt(start);
            return walk.Finish();
        }

        var first = enumerator.Current;
        if (walk.Edited(first) is { } edited)
        {
            return walk.Result(edited);
        }

        if (start is not null)
        {
            walk.StartAt(start);
        }
        else if (first.PreviousHash == AuditChain.Genesis)
        {
            walk.StartAt((AuditChainStart?)null);
        }
        else if (ordered.LastOrDefault(c => c.HeadId < first.Id) is { } anchor && anchor.HeadHash == first.PreviousHash)
        {
            walk.StartAt(anchor);
        }
        else
        {
            var before = ordered.LastOrDefault(c => c.HeadId < first.Id);
            return walk.Result(new AuditBreak(AuditBreakKind.Deleted, first.Id,
                $"the log starts at row {first.Id}, whose previous_hash is neither the first row's (all zeros) nor the head hash of a checkpoint before it: "
                + (before is null
                    ? "the rows before it were deleted"
                    : $"rows after row {before.HeadId}, the head of {Describe(before)}, were deleted or rewritten")));
        }

        var row = first;
        while (true)
        {
            if (walk.Edited(row) is { } brokenContent)
            {
                return walk.Result(brokenContent);
            }

            if (row.PreviousHash != walk.PreviousHash)
            {
                var ahead = new List<AuditRecord>(Window);
                while (ahead.Count < Window && await enumerator.MoveNextAsync())
                {
                    ahead.Add(enumerator.Current);
                }

                return walk.Result(walk.DiagnoseLink(row, ahead));
            }

            if (walk.Accept(row) is { } contradicted)
            {
                return walk.Result(contradicted);
            }

            if (!await enumerator.MoveNextAsync())
            {
                return walk.Finish();
            }

            row = enumerator.Current;
        }
    }

    internal static string Describe(AuditCheckpoint checkpoint) =>
        string.Create(CultureInfo.InvariantCulture, $"the checkpoint of row {checkpoint.HeadId} ({checkpoint.Count} rows, signed {checkpoint.IssuedAt:yyyy-MM-ddTHH:mm:ssZ})");

    /// <summary>The state of one walk: where it is in the chain and in the checkpoints, and the rows just behind.</summary>
    private sealed class Walk(List<AuditCheckpoint> checkpoints)
    {
        private readonly Queue<(long Id, string Hash)> _behind = new(Window);
        private int _next;
        private long _rows;
        private long? _firstId;
        private int _matched;
        private AuditCheckpoint? _anchor;

        public string PreviousHash { get; private set; } = AuditChain.Genesis;

        private long PreviousId { get; set; }

        private long Position { get; set; }

        public void StartAt(AuditChainStart? start)
        {
            (PreviousId, PreviousHash, Position) = start is null ? (0, AuditChain.Genesis, 0) : (start.HeadId, start.HeadHash, start.Count);
            SkipCheckpointsUpTo(PreviousId);
        }

        public void StartAt(AuditCheckpoint anchor)
        {
            _anchor = anchor;
            (PreviousId, PreviousHash, Position) = (anchor.HeadId, anchor.HeadHash, anchor.Count);
            SkipCheckpointsUpTo(anchor.HeadId);
            _matched++;
        }

        private void SkipCheckpointsUpTo(long headId)
        {
            // Checkpoints at or before where the walk starts cover rows it does not read.
            while (_next < checkpoints.Count && checkpoints[_next].HeadId <= headId)
            {
                _next++;
            }
        }

        public AuditBreak? Edited(AuditRecord row) => AuditChain.Compute(row) == row.Hash
            ? null
            : new AuditBreak(AuditBreakKind.Edited, row.Id, $"row {row.Id}: its hash does not match its content");

        /// <summary>Takes a row whose link holds into the chain, and checks it against the checkpoint signed at it, if any.</summary>
        public AuditBreak? Accept(AuditRecord row)
        {
            if (_next < checkpoints.Count && checkpoints[_next].HeadId < row.Id)
            {
                var missing = checkpoints[_next];
                return new AuditBreak(AuditBreakKind.Deleted, missing.HeadId,
                    $"row {missing.HeadId}, the head of {Describe(missing)}, is missing (the log goes from row {PreviousId} to row {row.Id})", missing);
            }

            _rows++;
            _firstId ??= row.Id;
            Position++;
            PreviousId = row.Id;
            PreviousHash = row.Hash;
            _behind.Enqueue((row.Id, row.Hash));
            if (_behind.Count > Window)
            {
                _behind.Dequeue();
            }

            if (_next < checkpoints.Count && checkpoints[_next].HeadId == row.Id)
            {
                var checkpoint = checkpoints[_next++];
                if (checkpoint.HeadHash != row.Hash)
                {
                    return new AuditBreak(AuditBreakKind.Rewritten, row.Id,
                        $"{Describe(checkpoint)} signed the head hash {checkpoint.HeadHash}, but row {row.Id} now chains to {row.Hash}: rows up to it were rewritten", checkpoint);
                }

                if (checkpoint.Count != Position)
                {
                    var (kind, what) = Position < checkpoint.Count ? (AuditBreakKind.Deleted, "deleted") : (AuditBreakKind.Inserted, "inserted");
                    return new AuditBreak(kind, row.Id,
                        $"{Describe(checkpoint)} counts {checkpoint.Count} rows up to it, the log has {Position}: {Math.Abs(checkpoint.Count - Position)} rows before it were {what}", checkpoint);
                }

                _matched++;
            }

            return null;
        }

        /// <summary>The row's previous_hash is not the hash of the row before it: says what most likely happened, from the rows around it.</summary>
        public AuditBreak DiagnoseLink(AuditRecord row, List<AuditRecord> ahead)
        {
            var before = PreviousId == 0 ? "the first row ever written" : $"the row before it (row {PreviousId})";
            var broken = $"row {row.Id}: its previous_hash is not the hash of {before}";

            var later = ahead.FirstOrDefault(a => a.Hash == row.PreviousHash);
            if (later is not null)
            {
                return new AuditBreak(AuditBreakKind.Reordered, row.Id, $"{broken}; it is the hash of row {later.Id}, which comes after it: rows were reordered");
            }

            if (ahead.Count > 0 && ahead[0].PreviousHash == PreviousHash)
            {
                return new AuditBreak(AuditBreakKind.Inserted, row.Id, $"{broken}, and row {ahead[0].Id} continues the chain from row {PreviousId}: row {row.Id} was inserted");
            }

            var earlier = _behind.Take(Math.Max(0, _behind.Count - 1)).Where(b => b.Hash == row.PreviousHash).Select(b => (long?)b.Id).LastOrDefault();
            if (earlier is { } origin)
            {
                var skipped = _behind.SkipWhile(b => b.Id != origin).Skip(1).ToList();
                return skipped.Count == 1
                    ? new AuditBreak(AuditBreakKind.Inserted, skipped[0].Id, $"{broken}; it is the hash of row {origin}: row {skipped[0].Id} was inserted between them")
                    : new AuditBreak(AuditBreakKind.Inserted, row.Id, $"{broken}; it is the hash of row {origin}: row {row.Id} was inserted, or rows {skipped[0].Id} to {skipped[^1].Id} were");
            }

            if (row.Id > PreviousId + 1)
            {
                return new AuditBreak(AuditBreakKind.Deleted, row.Id, $"{broken}, and the ids jump from {PreviousId} to {row.Id}: the rows between them were deleted");
            }

            return new AuditBreak(AuditBreakKind.Rewritten, row.Id, $"{broken}: row {PreviousId} or row {row.Id} was rewritten with a recomputed hash");
        }

        public AuditVerification Finish()
        {
            if (_next < checkpoints.Count)
            {
                var beyond = checkpoints[_next];
                var end = _rows == 0 ? "holds no rows after it" : $"ends at row {PreviousId}";
                return Result(new AuditBreak(AuditBreakKind.Truncated, PreviousId == 0 ? null : PreviousId,
                    $"{Describe(beyond)} covers {beyond.Count} rows up to row {beyond.HeadId}, but the log {end} after {Position} rows: rows at the end were deleted", beyond));
            }

            return Result(null);
        }

        public AuditVerification Result(AuditBreak? broken) =>
            new(_rows, Position, _firstId, _rows == 0 ? null : PreviousId, PreviousHash, _anchor, _matched, broken);
    }
}
