namespace Keyward.LocalServices;

/// <summary>Which of the local stack's databases, virtual hosts and HSM tokens a set of services uses.</summary>
public enum StackPurpose
{
    /// <summary>scripts/up: the <c>keyward</c> database and vhost, the dev token, the dev tenant.</summary>
    Dev,

    /// <summary>The integration tests: <c>keyward_test</c>, the test token; tenants and service identity are the tests' own.</summary>
    Test,

    /// <summary>The benchmarks: <c>keyward_bench</c>, the test token, the dev tenant.</summary>
    Bench,
}

/// <summary>
/// Which services mint service-identity tokens: the audit service (to have checkpoints signed) and the keyserver
/// (the CA signs a user's certificate only when the keyserver asks for that authenticated user).
/// </summary>
public static class ServiceIdentity
{
    public static bool Mints(string service) => service is "audit" or "keyserver";
}

/// <summary>The environment one local service starts with: where it listens, the stack it uses, its peers and (for Dev and Bench) the dev tenant.</summary>
public static class ServiceEnvironment
{
    public static IReadOnlyList<KeyValuePair<string, string>> For(StackValues stack, StackPurpose purpose, string service, ServicePorts ports,
        IReadOnlyDictionary<string, ServicePorts> peers) =>
        For(stack, purpose, service, ports, peers.ToDictionary(p => p.Key, p => (IReadOnlyList<ServicePorts>)[p.Value]));

    /// <summary>The same, with every replica of each peer (<c>Keyward:Services:&lt;peer&gt;</c> lists them, ';'-separated).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> For(StackValues stack, StackPurpose purpose, string service, ServicePorts ports,
        IReadOnlyDictionary<string, IReadOnlyList<ServicePorts>> peers)
    {
        var suffix = purpose switch { StackPurpose.Test => "_TEST", StackPurpose.Bench => "_BENCH", _ => "" };
        var environment = new List<KeyValuePair<string, string>>
        {
            new("Keyward__BindAddress", "127.0.0.1"),
            new("Keyward__Ports__Http", ports.Http.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("Keyward__Ports__Grpc", ports.Grpc.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("ConnectionStrings__Postgres", AsServiceRole(stack.Required($"KEYWARD_POSTGRES{suffix}"), service)),
            new("ConnectionStrings__RabbitMq", AsServiceUser(stack.Required($"KEYWARD_RABBITMQ{suffix}"), service, stack.Required("KEYWARD_RABBITMQ_SERVICE_PASSWORD"))),
            new("SOFTHSM2_CONF", stack.Required("SOFTHSM2_CONF")),
            new("Keyward__Hsm__ModulePath", stack["KEYWARD_HSM_MODULE"] ?? "/usr/lib/softhsm/libsofthsm2.so"),
            new("Keyward__Hsm__TokenLabel", stack.Required(purpose == StackPurpose.Dev ? "KEYWARD_HSM_TOKEN" : "KEYWARD_HSM_TOKEN_TEST")),
            new("Keyward__Hsm__Pin", stack.Required("KEYWARD_HSM_PIN")),
        };
        if (purpose != StackPurpose.Dev)
        {
            environment.AddRange(WideBudgets(service));
        }

        environment.AddRange(peers.Where(p => p.Key != "gateway").Select(p =>
            KeyValuePair.Create($"Keyward__Services__{p.Key}", string.Join(';', p.Value.Select(r => $"http://127.0.0.1:{r.Grpc}")))));
        if (purpose != StackPurpose.Test)
        {
            var tenant = stack["KEYWARD_DEV_TENANT"] ?? "dev";
            environment.Add(new($"Keyward__Tenants__{tenant}__Issuer", stack.Required("KEYWARD_DEV_ISSUER")));
            environment.Add(new($"Keyward__Tenants__{tenant}__SigningKeyFiles__0", stack.Required("KEYWARD_DEV_JWT_PUBLIC_KEY")));
            if (stack["KEYWARD_DEV_DELEGATION_PUBLIC_KEY"] is { } delegation)
            {
                // The front door's tokens (scripts/up --frontdoor); a stack made before the front door has no such key.
                environment.Add(new($"Keyward__Tenants__{tenant}__SigningKeyFiles__1", delegation));
            }
            environment.Add(new("Keyward__ServiceIdentity__SigningKeyFiles__0", stack.Required("KEYWARD_SERVICE_PUBLIC_KEY")));
            if (ServiceIdentity.Mints(service))
            {
                environment.Add(new("Keyward__ServiceIdentity__PrivateKeyFile", stack.Required("KEYWARD_SERVICE_KEY")));
            }
        }

        return environment;
    }

    /// <summary>
    /// Tests and benchmarks are thousands of clients on one loopback address, and a benchmark client is far busier than
    /// a real one: their services get budgets they cannot meet (the rate limits' own tests start gateways with small ones).
    /// </summary>
    private static IEnumerable<KeyValuePair<string, string>> WideBudgets(string service)
    {
        string[] budgets = service switch
        {
            "gateway" => ["RefusedTokensPerSource", "UnauthenticatedPerSource", "CertificateSigningPerUser", "CertificateSigningPerTenant", "EnrollmentPerUser", "MetadataWritesPerUser"],
            _ => [],
        };
        foreach (var budget in budgets)
        {
            yield return new($"Keyward__Gateway__RateLimits__{budget}__Burst", "1000000");
            yield return new($"Keyward__Gateway__RateLimits__{budget}__PerMinute", "60000000");
        }

        if (service == "metadata")
        {
            yield return new("Keyward__Metadata__Limits__WritesPerUser__Burst", "1000000");
            yield return new("Keyward__Metadata__Limits__WritesPerUser__PerMinute", "60000000");
        }
    }

    /// <summary>The service's own database role and broker user (made by scripts/stack): <c>keyward_&lt;schema&gt;</c>, never a superuser.</summary>
    public static string ServiceAccount(string service) => "keyward_" + service.Replace('-', '_');

    /// <summary>The broker address with the service's own user (made by scripts/stack with only the permissions it needs).</summary>
    public static string AsServiceUser(string amqpAddress, string service, string password) =>
        new UriBuilder(amqpAddress) { UserName = ServiceAccount(service), Password = password }.Uri.ToString();

    /// <summary>The stack's connection string with the service's role as the user.</summary>
    public static string AsServiceRole(string connectionString, string service) =>
        string.Join(';', connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Where(part => part.Split('=')[0].Trim().ToLowerInvariant() is not ("username" or "user id" or "user" or "userid"))
            .Append($"Username={ServiceAccount(service)}"));
}
