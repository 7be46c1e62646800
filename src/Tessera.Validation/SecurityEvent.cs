namespace Tessera.Validation;

/// <summary>
/// A verified Security Event Token's one event: its type, the user (<c>sub_id.user.sub</c>), the session for a
/// session revocation (<c>sub_id.session.id</c>), and the time of the event (<c>toe</c>, seconds since the epoch).
/// </summary>
internal sealed record SecurityEvent(string Jti, SecurityEventType Type, string Subject, string? SessionId, long TimeOfEvent);
