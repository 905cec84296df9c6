using Keyward.Metadata.Core;

namespace Keyward.UnitTests.Metadata;

public sealed class TreeLocksTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private readonly EncryptedFolder _root = new() { Id = "1", RootId = "1", OwnerId = "alice" };
    private readonly EncryptedFolder _child;
    private readonly EncryptedFolder _grandchild;
    private readonly EncryptedFolder _sibling;
    private readonly TreeLocks _locks = new() { Id = "1" };
    private int _tokens;

    public TreeLocksTests()
    {
        _child = new EncryptedFolder { Id = "2", RootId = "1", ParentId = "1", AncestorIds = ["1"], OwnerId = "alice" };
        _grandchild = new EncryptedFolder { Id = "3", RootId = "1", ParentId = "2", AncestorIds = ["1", "2"], OwnerId = "alice" };
        _sibling = new EncryptedFolder { Id = "4", RootId = "1", ParentId = "1", AncestorIds = ["1"], OwnerId = "alice" };
    }

    private LockDecision Acquire(EncryptedFolder folder, long? counter = 1, string? token = null, DateTimeOffset? at = null) =>
        _locks.Acquire(folder, counter, token, "alice", at ?? Now, () => $"token-{++_tokens}");

    [Fact]
    public void A_free_folder_is_locked_with_a_new_token_and_the_counter_kept_pending()
    {
        var decision = Acquire(_child, counter: 7);

        Assert.Equal(LockOutcome.Acquired, decision.Outcome);
        Assert.Equal("token-1", decision.Token);
        Assert.Equal(7, _child.PendingCounter);
        Assert.Equal(Now, _locks.OldestLockAt);
    }

    [Fact]
    public void Lock_held_by_another_token_on_an_ancestor_is_423()
    {
        Acquire(_root);

        Assert.Equal(LockOutcome.Locked, Acquire(_grandchild).Outcome);
    }

    [Fact]
    public void Lock_held_by_another_token_below_is_also_423()
    {
        Acquire(_grandchild);

        Assert.Equal(LockOutcome.Locked, Acquire(_root).Outcome);
        Assert.Equal(LockOutcome.Acquired, Acquire(_sibling).Outcome);
    }

    [Fact]
    public void The_same_token_on_the_same_folder_gets_the_same_lock_without_a_counter_check()
    {
        var first = Acquire(_child, counter: 5);
        _child.Counter = 9;

        var again = Acquire(_child, counter: 1, token: first.Token);

        Assert.Equal(LockOutcome.Resumed, again.Outcome);
        Assert.Equal(first.Token, again.Token);
    }

    [Fact]
    public void The_ancestors_token_extends_the_lock_to_a_sub_folder_as_a_second_row()
    {
        var root = Acquire(_root);

        var sub = Acquire(_child, token: root.Token);

        Assert.Equal(LockOutcome.Acquired, sub.Outcome);
        Assert.Equal(root.Token, sub.Token);
        Assert.Equal(2, _locks.Locks.Count);
    }

    [Fact]
    public void A_counter_not_greater_than_the_stored_one_is_412()
    {
        _child.Counter = 4;

        Assert.Equal(LockOutcome.CounterTooSmall, Acquire(_child, counter: 4).Outcome);
        Assert.Equal(LockOutcome.Acquired, Acquire(_child, counter: 5).Outcome);
    }

    [Fact]
    public void API_1_locks_carry_no_counter()
    {
        _child.Counter = 4;

        Assert.Equal(LockOutcome.Acquired, Acquire(_child, counter: null).Outcome);
    }

    [Fact]
    public void A_token_holds_its_folder_and_everything_below_but_nothing_beside_or_above()
    {
        var token = Acquire(_child).Token;

        Assert.True(_locks.IsHeldBy(_child, token));
        Assert.True(_locks.IsHeldBy(_grandchild, token));
        Assert.False(_locks.IsHeldBy(_root, token));
        Assert.False(_locks.IsHeldBy(_sibling, token));
        Assert.False(_locks.IsHeldBy(_child, "other"));
        Assert.False(_locks.IsHeldBy(_child, null));
    }

    [Fact]
    public void Release_needs_a_lock_row_on_the_folder_with_the_same_token()
    {
        var token = Acquire(_root).Token!;

        Assert.Equal(UnlockDecision.NoLockHere, _locks.Release(_child.Id, token));
        Assert.Equal(UnlockDecision.WrongToken, _locks.Release(_root.Id, "other"));
        Assert.Equal(UnlockDecision.Released, _locks.Release(_root.Id, token));
        Assert.Empty(_locks.Locks);
        Assert.Null(_locks.OldestLockAt);
    }

    [Fact]
    public void Touched_folders_are_remembered_per_token_once()
    {
        _locks.Touch("t", "2", Now);
        _locks.Touch("t", "3", Now);
        _locks.Touch("t", "2", Now);

        Assert.Equal(["2", "3"], _locks.TouchedBy("t"));
        Assert.Empty(_locks.TouchedBy("other"));
    }

    [Fact]
    public void Only_tokens_whose_every_lock_is_older_than_the_cutoff_are_stale()
    {
        _locks.Locks.AddRange(
        [
            new FolderLock("1", ["1"], "extended", "alice", Now.AddHours(-30)),
            new FolderLock("2", ["1", "2"], "extended", "alice", Now.AddHours(-1)),
            new FolderLock("4", ["1", "4"], "stale", "bob", Now.AddHours(-48)),
        ]);
        _locks.Touch("stale", "4", Now.AddHours(-47));

        var stale = _locks.StaleTokens(Now.AddHours(-24));

        Assert.Equal(["stale"], stale);
        _locks.DropToken("stale");
        Assert.Equal(2, _locks.Locks.Count);
        Assert.Empty(_locks.TouchedBy("stale"));
        Assert.Equal(Now.AddHours(-30), _locks.OldestLockAt);
    }
}
