namespace Keyward.Metadata.Core;

/// <summary>
/// The locks of one encrypted tree, kept on one document per root so that every lock decision in a tree
/// is made against the same state (the document is saved with optimistic concurrency). A lock covers
/// its folder and everything below it (reference §b).
/// </summary>
public sealed class TreeLocks
{
    /// <summary>The root folder id.</summary>
    public string Id { get; set; } = "";

    public List<FolderLock> Locks { get; set; } = [];

    /// <summary>Folders whose metadata was written under each token: what an unlock commits or drops.</summary>
    public Dictionary<string, List<string>> TouchedByToken { get; set; } = new(StringComparer.Ordinal);

    /// <summary>When something was last written under each token: how long a lock has been idle (see <see cref="IdleSince"/>).</summary>
    public Dictionary<string, DateTimeOffset> LastWriteByToken { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The tenant, filled in by storage (the stale-lock sweep works across tenants).</summary>
    public string TenantId { get; set; } = "";

    /// <summary>When the oldest lock was taken, for the stale-lock sweep; null without locks.</summary>
    public DateTimeOffset? OldestLockAt { get; set; }

    /// <summary>Whether <paramref name="token"/> holds a lock on the folder or an ancestor.</summary>
    public bool IsHeldBy(EncryptedFolder folder, string? token) =>
        !string.IsNullOrEmpty(token) && Locks.Any(l => l.Token == token && folder.PathToRoot.Contains(l.FolderId));

    /// <summary>
    /// Whether another token locks the folder, an ancestor, or (stricter than the reference, which only
    /// walks up) a descendant: a lock above a foreign lock would cover what the other client is changing.
    /// </summary>
    public bool IsLockedByAnother(EncryptedFolder folder, string? token) =>
        Locks.Any(l => l.Token != token && (folder.PathToRoot.Contains(l.FolderId) || l.Path.Contains(folder.Id)));

    public bool IsLockedAtAll(EncryptedFolder folder) => IsLockedByAnother(folder, token: null);

    public FolderLock? LockOn(string folderId) => Locks.FirstOrDefault(l => l.FolderId == folderId);

    /// <summary>
    /// POST lock (reference §a.5, checks 4–7): another token anywhere on the path → locked; the same token on
    /// this folder → the same lock again; a counter not above the stored one → refused; else a new lock,
    /// extending the caller's ancestor lock when it names that token.
    /// </summary>
    public LockDecision Acquire(EncryptedFolder folder, long? counter, string? requestedToken, string user, DateTimeOffset now, Func<string> newToken)
    {
        if (IsLockedByAnother(folder, requestedToken))
        {
            return LockDecision.Locked();
        }

        if (LockOn(folder.Id) is { } existing)
        {
            return existing.Token == requestedToken ? LockDecision.Resumed(existing.Token) : LockDecision.Locked();
        }

        if (counter is { } next && folder.Counter >= next)
        {
            return LockDecision.CounterTooSmall();
        }

        var token = requestedToken is not null && IsHeldBy(folder, requestedToken) ? requestedToken : newToken();
        Locks.Add(new FolderLock(folder.Id, folder.PathToRoot.ToList(), token, user, now));
        folder.PendingCounter = counter;
        OldestLockAt = Locks.Min(l => l.LockedAt);
        return LockDecision.Acquired(token);
    }

    public void Touch(string token, string folderId, DateTimeOffset now)
    {
        LastWriteByToken[token] = now;
        if (!TouchedByToken.TryGetValue(token, out var folders))
        {
            TouchedByToken[token] = folders = [];
        }

        if (!folders.Contains(folderId))
        {
            folders.Add(folderId);
        }
    }

    public IReadOnlyList<string> TouchedBy(string token) => TouchedByToken.GetValueOrDefault(token) ?? [];

    public void ForgetTouched(string token)
    {
        TouchedByToken.Remove(token);
        LastWriteByToken.Remove(token);
    }

    /// <summary>When the token was last used: its latest lock or its latest write under it, whichever is later.</summary>
    public DateTimeOffset IdleSince(string token)
    {
        var lastLock = Locks.Where(l => l.Token == token).Select(l => l.LockedAt).DefaultIfEmpty(DateTimeOffset.MinValue).Max();
        return LastWriteByToken.TryGetValue(token, out var lastWrite) && lastWrite > lastLock ? lastWrite : lastLock;
    }

    /// <summary>
    /// Whether <paramref name="user"/> may break the lock on this folder without its token (a crashed client, a lost
    /// device): only the user who holds it, and only once it has been idle for <paramref name="idleAfter"/>; an admin
    /// may force any lock (<paramref name="force"/>).
    /// </summary>
    public BreakDecision MayBreak(string folderId, string user, bool force, DateTimeOffset now, TimeSpan idleAfter)
    {
        if (LockOn(folderId) is not { } held)
        {
            return new BreakDecision(BreakOutcome.NoLock, null, TimeSpan.Zero);
        }

        if (force)
        {
            return new BreakDecision(BreakOutcome.Allowed, held, now - IdleSince(held.Token));
        }

        if (held.LockedBy != user)
        {
            return new BreakDecision(BreakOutcome.NotHolder, held, TimeSpan.Zero);
        }

        var idle = now - IdleSince(held.Token);
        return new BreakDecision(idle >= idleAfter ? BreakOutcome.Allowed : BreakOutcome.StillInUse, held, idle);
    }

    /// <summary>Removes this folder's lock row if the token is its own (reference §a.5 DELETE lock).</summary>
    public UnlockDecision Release(string folderId, string token)
    {
        var existing = LockOn(folderId);
        if (existing is null)
        {
            return UnlockDecision.NoLockHere;
        }

        if (existing.Token != token)
        {
            return UnlockDecision.WrongToken;
        }

        Locks.Remove(existing);
        OldestLockAt = Locks.Count == 0 ? null : Locks.Min(l => l.LockedAt);
        return UnlockDecision.Released;
    }

    /// <summary>Tokens whose every lock is older than <paramref name="cutoff"/>: stale, to be rolled back.</summary>
    public IReadOnlyList<string> StaleTokens(DateTimeOffset cutoff) =>
        Locks.GroupBy(l => l.Token).Where(g => g.Max(l => l.LockedAt) < cutoff).Select(g => g.Key).ToList();

    /// <summary>Drops every lock of a token (stale-lock rollback).</summary>
    public void DropToken(string token)
    {
        Locks.RemoveAll(l => l.Token == token);
        TouchedByToken.Remove(token);
        LastWriteByToken.Remove(token);
        OldestLockAt = Locks.Count == 0 ? null : Locks.Min(l => l.LockedAt);
    }
}

public sealed record FolderLock(string FolderId, List<string> Path, string Token, string LockedBy, DateTimeOffset LockedAt);

public enum LockOutcome
{
    Acquired,
    Resumed,
    Locked,
    CounterTooSmall,
}

public sealed record LockDecision(LockOutcome Outcome, string? Token)
{
    public static LockDecision Acquired(string token) => new(LockOutcome.Acquired, token);

    public static LockDecision Resumed(string token) => new(LockOutcome.Resumed, token);

    public static LockDecision Locked() => new(LockOutcome.Locked, null);

    public static LockDecision CounterTooSmall() => new(LockOutcome.CounterTooSmall, null);
}

public enum BreakOutcome
{
    Allowed,
    NoLock,
    NotHolder,
    StillInUse,
}

/// <summary>What <see cref="TreeLocks.MayBreak"/> decided, the lock it looked at and how long that had been idle.</summary>
public sealed record BreakDecision(BreakOutcome Outcome, FolderLock? Lock, TimeSpan Idle);

public enum UnlockDecision
{
    Released,
    NoLockHere,
    WrongToken,
}
