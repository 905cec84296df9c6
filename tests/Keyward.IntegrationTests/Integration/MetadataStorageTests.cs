using System.Net;
using Keyward.IntegrationTests.Infrastructure;
using Npgsql;

namespace Keyward.IntegrationTests.Integration;

/// <summary>
/// Metadata texts live once per SHA-256 beside the folders (issue #15): a folder stored by an earlier release, with its
/// text inline in the document, still reads byte for byte, and the next save splits it off without losing it.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class MetadataStorageTests(KeywardSystem system)
{
    [Fact]
    public async Task A_folder_with_its_text_inline_from_an_earlier_release_reads_the_same_and_is_split_off_on_its_next_save()
    {
        var user = $"upgrade-{Guid.NewGuid():N}"[..18];
        var folders = new E2eeFolders(OcsClient.For(system, user, TestTenants.TenantA));
        var id = await folders.RegisterAsync();
        var metadata = E2eeFolders.Metadata(user);
        await folders.CommitAsync(id, metadata, counter: 1);

        // As an earlier release stored it: the text inside the folder document, no blob.
        await using var data = NpgsqlDataSource.Create(system.Stack.Postgres);
        await using (var command = data.CreateCommand("""
            update metadata.mt_doc_encryptedfolder f set data = jsonb_set(f.data, '{Committed,Metadata}', to_jsonb(b.data->>'Text'))
            from metadata.mt_doc_metadatablob b where f.id = @id and f.tenant_id = @tenant and b.id = f.data->'Committed'->>'Sha256' and b.tenant_id = @tenant;
            delete from metadata.mt_doc_metadatablob b using metadata.mt_doc_encryptedfolder f
            where f.id = @id and f.tenant_id = @tenant and b.id = f.data->'Committed'->>'Sha256' and b.tenant_id = @tenant;
            """))
        {
            command.Parameters.AddWithValue("id", id);
            command.Parameters.AddWithValue("tenant", TestTenants.TenantA);
            Assert.Equal(2, await command.ExecuteNonQueryAsync());
        }

        Assert.Equal(metadata, (await folders.GetAsync(id)).Data.GetProperty("meta-data").GetString());

        // A lock and an unlock save the folder: the text moves into its blob, the document keeps only its hash.
        var token = await folders.LockedAsync(id, 2);
        Assert.Equal(HttpStatusCode.OK, (await folders.UnlockAsync(id, token)).Status);
        await using (var command = data.CreateCommand("""
            select f.data->'Committed'->>'Metadata', b.data->>'Text' from metadata.mt_doc_encryptedfolder f
            join metadata.mt_doc_metadatablob b on b.id = f.data->'Committed'->>'Sha256' and b.tenant_id = f.tenant_id
            where f.id = @id and f.tenant_id = @tenant
            """))
        {
            command.Parameters.AddWithValue("id", id);
            command.Parameters.AddWithValue("tenant", TestTenants.TenantA);
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync(), "the folder's text is in a blob again");
            Assert.Equal("", reader.GetString(0));
            Assert.Equal(metadata, reader.GetString(1));
        }

        Assert.Equal(metadata, (await folders.GetAsync(id)).Data.GetProperty("meta-data").GetString());
        var version = await folders.Ocs.Http.GetStringAsync($"/v1/folders/{id}/versions/1");
        Assert.Contains("Q0lQSEVS", version); // the version's text comes from the same blob
    }

    [Fact]
    public async Task A_pending_version_written_before_the_upgrade_commits_at_the_next_unlock()
    {
        var user = $"pending-{Guid.NewGuid():N}"[..18];
        var folders = new E2eeFolders(OcsClient.For(system, user, TestTenants.TenantA));
        var id = await folders.RegisterAsync();
        await folders.CommitAsync(id, E2eeFolders.Metadata(user), counter: 1);
        var token = await folders.LockedAsync(id, 2);
        var updated = E2eeFolders.Metadata(user, "bob");
        Assert.Equal(HttpStatusCode.OK, (await folders.UpdateAsync(id, token, updated)).Status);

        // As an earlier release left it: the pending text's hash only, without the version and users written at PUT time.
        await using var data = NpgsqlDataSource.Create(system.Stack.Postgres);
        await using (var command = data.CreateCommand("""
            update metadata.mt_doc_encryptedfolder set data = jsonb_set(data, '{Pending}', (data->'Pending') - 'UserIds' - 'Version')
            where id = @id and tenant_id = @tenant
            """))
        {
            command.Parameters.AddWithValue("id", id);
            command.Parameters.AddWithValue("tenant", TestTenants.TenantA);
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }

        Assert.Equal(HttpStatusCode.OK, (await folders.UnlockAsync(id, token)).Status);
        Assert.Equal(updated, (await folders.GetAsync(id)).Data.GetProperty("meta-data").GetString());
        // The root's users came from the text: bob may now read it.
        Assert.Equal(HttpStatusCode.OK, (await new E2eeFolders(OcsClient.For(system, "bob", TestTenants.TenantA)).GetAsync(id)).Status);
    }
}
