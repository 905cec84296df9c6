using System.Text;

namespace Keyward.Gateway.Core;

/// <summary><c>Keyward:Gateway:RefusedTokens</c>: how refused tokens are folded before they reach a tenant's audit trail.</summary>
public sealed class RefusedTokenOptions
{
    public const string Section = "Keyward:Gateway:RefusedTokens";

    /// <summary>One audit row per tenant and source address per window, with the count.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>At most this many (tenant, source) windows open at once; refusals beyond are counted in the log only.</summary>
    public int MaxOpenWindows { get; set; } = 10_000;

    public const int MaxSubjectBytes = 256;
}

/// <summary>The first refusal of a window (what the row shows) and how many came in it.</summary>
public sealed record RefusedTokenWindow(string TenantId, string Source, string Subject, string Reason, string UserAgent, string Endpoint, DateTimeOffset Opened, int Count);

/// <summary>
/// Folds refused tokens per (claimed tenant, source address) into windows, so an unauthenticated caller cannot
/// write a row per request into a tenant's permanent trail: a flood from one address is one row a minute with a
/// count. The subject is the caller's claim, unverified, and cut to 256 UTF-8 bytes. Pure; the gateway flushes
/// closed windows into the audit outbox.
/// </summary>
public sealed class RefusedTokenTally(RefusedTokenOptions options)
{
    private readonly Dictionary<(string, string), RefusedTokenWindow> _open = [];
    private readonly Lock _lock = new();

    public long Dropped { get; private set; }

    /// <summary>Counts a refusal; false when too many windows are open to track it.</summary>
    public bool Count(string tenantId, string source, string? subject, string reason, string userAgent, string endpoint, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_open.TryGetValue((tenantId, source), out var window))
            {
                _open[(tenantId, source)] = window with { Count = window.Count + 1 };
                return true;
            }

            if (_open.Count >= options.MaxOpenWindows)
            {
                Dropped++;
                return false;
            }

            _open[(tenantId, source)] = new RefusedTokenWindow(tenantId, source, CutUtf8(subject ?? "", RefusedTokenOptions.MaxSubjectBytes), CutUtf8(reason, 512),
                CutUtf8(userAgent, 256), CutUtf8(endpoint, 256), now, 1);
            return true;
        }
    }

    /// <summary>The windows open for at least the window length (all of them when <paramref name="all"/>), removed.</summary>
    public IReadOnlyList<RefusedTokenWindow> TakeClosed(DateTimeOffset now, bool all = false)
    {
        lock (_lock)
        {
            var closed = _open.Values.Where(w => all || now - w.Opened >= options.Window).ToList();
            foreach (var window in closed)
            {
                _open.Remove((window.TenantId, window.Source));
            }

            return closed;
        }
    }

    /// <summary>The longest prefix of at most <paramref name="maxBytes"/> UTF-8 bytes that does not split a character.</summary>
    public static string CutUtf8(string value, int maxBytes)
    {
        if (Encoding.UTF8.GetByteCount(value) <= maxBytes)
        {
            return value;
        }

        var length = 0;
        var bytes = 0;
        foreach (var rune in value.EnumerateRunes())
        {
            if (bytes + rune.Utf8SequenceLength > maxBytes)
            {
                break;
            }

            bytes += rune.Utf8SequenceLength;
            length += rune.Utf16SequenceLength;
        }

        return value[..length];
    }
}
