using Keyward.IntegrationTests.Infrastructure;
using Keyward.LocalServices;
using Npgsql;

namespace Keyward.IntegrationTests.Adversarial;

/// <summary>
/// Least privilege in the database: each service connects as its own role, which is no superuser and has no right in
/// another service's schema. A compromised metadata service cannot read the keyserver's private-key blobs.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class DatabaseRoleTests(KeywardSystem system)
{
    public static TheoryData<string, string> OtherServicesTables => new()
    {
        { "metadata", "keyserver.mt_doc_storedprivatekey" },
        { "gateway", "keyserver.mt_doc_storedescrow" },
        { "keyserver", "metadata.mt_doc_encryptedfolder" },
        { "certificate-authority", "audit.log_entries" },
        { "audit", "keyserver.mt_doc_storedcertificate" },
    };

    [Theory]
    [MemberData(nameof(OtherServicesTables))]
    public async Task A_services_role_cannot_read_another_services_tables(string service, string table)
    {
        await using var connection = new NpgsqlConnection(ServiceEnvironment.AsServiceRole(system.Stack.Postgres, service));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"select count(*) from {table}", connection);

        var refused = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteScalarAsync());

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
    }

    [Fact]
    public async Task Every_service_runs_as_its_own_role_that_is_no_superuser_and_owns_only_its_schema()
    {
        await using var data = NpgsqlDataSource.Create(system.Stack.Postgres);
        await using var roles = data.CreateCommand("""
            select r.rolname, r.rolsuper, r.rolcreatedb, r.rolcreaterole, string_agg(n.nspname, ',' order by n.nspname)
            from pg_roles r left join pg_namespace n on n.nspowner = r.oid
            where r.rolname like 'keyward\_%' group by r.rolname, r.rolsuper, r.rolcreatedb, r.rolcreaterole order by r.rolname
            """);
        var found = new List<(string Role, bool Super, bool CreateDb, bool CreateRole, string? Schemas)>();
        await using (var reader = await roles.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                found.Add((reader.GetString(0), reader.GetBoolean(1), reader.GetBoolean(2), reader.GetBoolean(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
            }
        }

        foreach (var service in LocalServices.LocalService.All.Select(s => s.Name))
        {
            var schema = service.Replace('-', '_');
            var role = Assert.Single(found, r => r.Role == ServiceEnvironment.ServiceAccount(service));
            Assert.False(role.Super || role.CreateDb || role.CreateRole, $"{role.Role} has more than it needs");
            // The audit logs belong to a role nobody logs in as; the audit service only reads and appends.
            Assert.Equal(service == "audit" ? null : schema, role.Schemas);
        }

        var owner = Assert.Single(found, r => r.Role == "keyward_audit_owner");
        Assert.Equal("audit", owner.Schemas);

        // The running services really connect as those roles.
        await using var sessions = data.CreateCommand("select distinct usename from pg_stat_activity where datname = current_database() and usename like 'keyward\\_%'");
        var connected = new List<string>();
        await using (var reader = await sessions.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                connected.Add(reader.GetString(0));
            }
        }

        Assert.Contains("keyward_keyserver", connected);
        Assert.Contains("keyward_metadata", connected);
        Assert.Contains("keyward_audit", connected);
        Assert.DoesNotContain("keyward_audit_owner", connected);
    }

    /// <summary>Adversary: someone holding the audit service's database login. It can append, never rewrite.</summary>
    [Theory]
    [InlineData("update audit.log_entries set actor = 'x'")]
    [InlineData("delete from audit.log_states")]
    [InlineData("delete from audit.log_checkpoints")]
    [InlineData("truncate audit.log_nodes")]
    [InlineData("alter table audit.log_entries disable trigger log_entries_append_only")]
    [InlineData("drop table audit.log_cosignatures")]
    [InlineData("set session_replication_role = replica")]
    public async Task The_audit_services_role_can_only_read_and_insert(string sql)
    {
        await using var connection = new NpgsqlConnection(ServiceEnvironment.AsServiceRole(system.Stack.Postgres, "audit"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);

        var refused = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        Assert.DoesNotContain("append-only", refused.MessageText);
    }
}
