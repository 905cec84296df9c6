using Keyward.Common.Auth;

namespace Keyward.UnitTests.Common.Auth;

public sealed class TenantRegistryTests
{
    [Fact]
    public void A_tenant_without_an_issuer_is_a_configuration_error()
    {
        var options = new TenantRegistryOptions();
        options.Tenants["acme"] = new TenantOptions { SigningKeys = [new TestTenant("acme").PublicKeyPem] };

        var error = Assert.Throws<InvalidOperationException>(() => TenantRegistry.FromOptions(options));

        Assert.Equal("Tenant 'acme' has no Issuer configured.", error.Message);
    }

    [Fact]
    public void A_tenant_without_keys_is_a_configuration_error()
    {
        var options = new TenantRegistryOptions();
        options.Tenants["acme"] = new TenantOptions { Issuer = "https://acme.example" };

        var error = Assert.Throws<InvalidOperationException>(() => TenantRegistry.FromOptions(options));

        Assert.Contains("no SigningKeys", error.Message);
    }

    [Fact]
    public void A_key_that_is_not_a_public_key_PEM_is_a_configuration_error()
    {
        var options = new TenantRegistryOptions();
        options.Tenants["acme"] = new TenantOptions { Issuer = "https://acme.example", SigningKeys = ["-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"] };

        var error = Assert.Throws<InvalidOperationException>(() => TenantRegistry.FromOptions(options));

        Assert.Equal("A signing key of tenant 'acme' is not an RSA or EC public key in PEM.", error.Message);
    }

    [Fact]
    public void Keys_are_read_from_files_as_mounted_secrets_are()
    {
        var tenant = new TestTenant("acme", ec: true);
        var path = Path.GetTempFileName();
        File.WriteAllText(path, tenant.PublicKeyPem);
        try
        {
            var options = new TenantRegistryOptions();
            options.Tenants["acme"] = new TenantOptions { Issuer = tenant.Issuer, SigningKeyFiles = [path] };

            var registry = TenantRegistry.FromOptions(options);

            Assert.True(registry.TryGet("acme", out var registered));
            Assert.Single(registered.SigningKeys);
            Assert.Equal(64, registered.SigningKeys[0].KeyId.Length);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_missing_key_file_is_named_in_the_error()
    {
        var options = new TenantRegistryOptions();
        options.Tenants["acme"] = new TenantOptions { Issuer = "https://acme.example", SigningKeyFiles = ["/nonexistent/key.pem"] };

        var error = Assert.Throws<InvalidOperationException>(() => TenantRegistry.FromOptions(options));

        Assert.Contains("/nonexistent/key.pem", error.Message);
    }
}
