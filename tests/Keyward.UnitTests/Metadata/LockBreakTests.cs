using Keyward.Metadata.Core;

namespace Keyward.UnitTests.Metadata;

/// <summary>Who may break a lock without its token, and when (<see cref="TreeLocks.MayBreak"/>).</summary>
public sealed class LockBreakTests
{
    private static readonly DateTimeOffset LockedAt = new(2026, 12, 3, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan IdleAfter = TimeSpan.FromMinutes(15);

    private static (TreeLocks Locks, EncryptedFolder Folder) Locked()
    {
        var folder = new EncryptedFolder { Id = "42", RootId = "42", OwnerId = "alice" };
        var locks = new TreeLocks { Id = "42" };
        Assert.Equal(LockOutcome.Acquired, locks.Acquire(folder, 2, null, "alice", LockedAt, () => "token-1").Outcome);
        return (locks, folder);
    }

    [Fact]
    public void The_holder_may_break_a_lock_only_once_it_is_idle_and_a_write_under_it_counts_as_use()
    {
        var (locks, folder) = Locked();
        Assert.Equal(BreakOutcome.StillInUse, locks.MayBreak("42", "alice", force: false, LockedAt.AddMinutes(14), IdleAfter).Outcome);
        Assert.Equal(BreakOutcome.Allowed, locks.MayBreak("42", "alice", force: false, LockedAt.AddMinutes(15), IdleAfter).Outcome);

        locks.Touch("token-1", folder.Id, LockedAt.AddMinutes(10));
        var decision = locks.MayBreak("42", "alice", force: false, LockedAt.AddMinutes(20), IdleAfter);
        Assert.Equal((BreakOutcome.StillInUse, TimeSpan.FromMinutes(10)), (decision.Outcome, decision.Idle));
        Assert.Equal(BreakOutcome.Allowed, locks.MayBreak("42", "alice", force: false, LockedAt.AddMinutes(25), IdleAfter).Outcome);
    }

    [Fact]
    public void Nobody_else_breaks_it_an_admin_forces_it_at_any_age_and_without_a_lock_there_is_nothing_to_break()
    {
        var (locks, _) = Locked();
        Assert.Equal(BreakOutcome.NotHolder, locks.MayBreak("42", "mallory", force: false, LockedAt.AddDays(1), IdleAfter).Outcome);
        Assert.Equal(BreakOutcome.Allowed, locks.MayBreak("42", "admin", force: true, LockedAt.AddSeconds(1), IdleAfter).Outcome);
        Assert.Equal(BreakOutcome.NoLock, locks.MayBreak("43", "alice", force: false, LockedAt.AddDays(1), IdleAfter).Outcome);

        locks.DropToken("token-1");
        Assert.Empty(locks.LastWriteByToken);
        Assert.Equal(BreakOutcome.NoLock, locks.MayBreak("42", "alice", force: true, LockedAt.AddDays(1), IdleAfter).Outcome);
    }
}
