using Npgsql;

namespace Keyward.Common.Storage;

public static class PostgresConnections
{
    /// <summary>
    /// The configured connection string with Npgsql's statement auto-preparation on and the per-use session
    /// reset off, unless it says otherwise. Profiled under the P2 load, PostgreSQL parsed and planned the same
    /// few statements on every call (its parser among its top functions), and every pooled connection's
    /// DISCARD ALL would throw prepared ones away again; Keyward keeps no session state on a connection that
    /// needs resetting. Measured: 109 → 167 lock/PUT/unlock cycles per second at 16 clients.
    /// </summary>
    public static string Tuned(string connectionString)
    {
        var configured = new NpgsqlConnectionStringBuilder(connectionString);
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        bool Given(string key) => given.Keys.Cast<string>().Any(k => string.Equals(k.Replace(" ", ""), key, StringComparison.OrdinalIgnoreCase));
        if (!Given("MaxAutoPrepare"))
        {
            configured.MaxAutoPrepare = 64;
        }

        if (!Given("AutoPrepareMinUsages"))
        {
            configured.AutoPrepareMinUsages = 2;
        }

        if (!Given("NoResetOnClose"))
        {
            configured.NoResetOnClose = true;
        }

        return configured.ConnectionString;
    }
}
