using Npgsql;

namespace Keyward.Common.Storage;

/// <summary>
/// One replica's turn at work that two copies must not do at once (relaying one outbox, signing one log's head): a
/// transaction-scoped PostgreSQL advisory lock, held on a connection of its own until the turn is disposed. The other
/// replicas wait for it; a process that dies mid-turn loses its connection, and with it the lock. Nothing is written
/// under the transaction, so rolling it back costs nothing.
/// </summary>
public sealed class AdvisoryTurn : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;

    private AdvisoryTurn(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        _connection = connection;
        _transaction = transaction;
    }

    /// <summary>Waits until no other holder of <paramref name="name"/> is left, on <paramref name="connection"/> (not yet open; the turn owns it).</summary>
    public static async Task<AdvisoryTurn> TakeAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        try
        {
            await connection.OpenAsync(cancellationToken);
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using var command = new NpgsqlCommand("select pg_advisory_xact_lock(hashtextextended(@name, 0))", connection, transaction);
            command.Parameters.AddWithValue("name", name);
            await command.ExecuteNonQueryAsync(cancellationToken);
            return new AdvisoryTurn(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
