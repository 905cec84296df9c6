using Keyward.Common.Storage;
using Npgsql;

namespace Keyward.UnitTests.Common;

public sealed class PostgresConnectionsTests
{
    [Fact]
    public void Statements_are_auto_prepared_and_connections_not_reset_by_default()
    {
        var tuned = new NpgsqlConnectionStringBuilder(PostgresConnections.Tuned("Host=db;Port=5432;Username=keyward;Database=keyward"));

        Assert.Equal(64, tuned.MaxAutoPrepare);
        Assert.Equal(2, tuned.AutoPrepareMinUsages);
        Assert.True(tuned.NoResetOnClose);
        Assert.Equal("db", tuned.Host);
        Assert.Equal("keyward", tuned.Database);
    }

    [Fact]
    public void What_the_operator_configured_wins()
    {
        var tuned = new NpgsqlConnectionStringBuilder(PostgresConnections.Tuned("Host=db;Max Auto Prepare=0;No Reset On Close=false;Auto Prepare Min Usages=5"));

        Assert.Equal(0, tuned.MaxAutoPrepare);
        Assert.Equal(5, tuned.AutoPrepareMinUsages);
        Assert.False(tuned.NoResetOnClose);
    }
}
