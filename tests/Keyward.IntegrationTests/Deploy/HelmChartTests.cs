using System.Text.Json.Nodes;

namespace Keyward.IntegrationTests.Deploy;

/// <summary>The chart lints, renders with the default and a production-like values file, and what it renders is safe.</summary>
public sealed class HelmChartTests
{
    private const string PostgresPassword = "pg-secret-value-7f3a";
    private const string RabbitPassword = "mq-secret-value-9c1b";
    private const string HsmPin = "hsm-pin-value-2d8e";

    public static TheoryData<string> ValueSets => new() { "default", "production" };

    private static string[] Values(string set) => set == "production" ? ["-f", HelmChart.ProductionValues] : [];

    private static IEnumerable<JsonObject> Kind(IEnumerable<JsonObject> manifests, string kind) => manifests.Where(m => (string?)m["kind"] == kind);

    private static string Name(JsonObject manifest) => (string)manifest["metadata"]!["name"]!;

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task The_chart_passes_helm_lint_strict(string set)
    {
        var (exitCode, output) = await HelmChart.RunAsync(["lint", "--strict", HelmChart.ChartPath, .. Values(set)]);

        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task The_values_schema_refuses_what_it_does_not_know()
    {
        var (badMode, _) = await HelmChart.RunAsync("lint", "--strict", HelmChart.ChartPath, "--set", "hsm.mode=cloudhsm");
        var (unknownKey, _) = await HelmChart.RunAsync("lint", "--strict", HelmChart.ChartPath, "--set", "postgres.hostname=x");
        var (rootUser, _) = await HelmChart.RunAsync("lint", "--strict", HelmChart.ChartPath, "--set", "podSecurityContext.runAsNonRoot=false");

        Assert.NotEqual(0, badMode);
        Assert.NotEqual(0, unknownKey);
        Assert.NotEqual(0, rootUser);
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task Every_pod_runs_non_root_read_only_without_privilege_escalation_with_probes(string set)
    {
        var manifests = await HelmChart.TemplateAsync(Values(set));
        var deployments = Kind(manifests, "Deployment").ToList();

        Assert.True(deployments.Count >= 5);
        foreach (var deployment in deployments)
        {
            var pod = deployment["spec"]!["template"]!["spec"]!;
            Assert.Equal("true", pod["securityContext"]!["runAsNonRoot"]!.ToString());
            var containers = pod["containers"]!.AsArray().Concat(pod["initContainers"]?.AsArray() ?? []).Select(c => c!.AsObject()).ToList();
            foreach (var container in containers)
            {
                Assert.Equal("false", container["securityContext"]!["allowPrivilegeEscalation"]!.ToString());
                Assert.Equal("true", container["securityContext"]!["readOnlyRootFilesystem"]!.ToString());
                Assert.Contains("ALL", container["securityContext"]!["capabilities"]?["drop"]?.ToJsonString() ?? "ALL");
            }

            if (Name(deployment).EndsWith("otel-collector", StringComparison.Ordinal))
            {
                continue;
            }

            var main = pod["containers"]![0]!;
            Assert.Equal("/healthz", (string)main["livenessProbe"]!["httpGet"]!["path"]!);
            Assert.Equal("/readyz", (string)main["readinessProbe"]!["httpGet"]!["path"]!);
            Assert.NotNull(main["resources"]!["limits"]);
        }
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task Only_the_gateway_is_reachable_from_outside_and_only_the_CA_reaches_the_HSM(string set)
    {
        var policies = Kind(await HelmChart.TemplateAsync(Values(set)), "NetworkPolicy").ToDictionary(p => Name(p).Replace("test-keyward-", ""));

        Assert.Equal(["audit", "certificate-authority", "gateway", "keyserver", "metadata"], policies.Keys.Order());
        foreach (var (service, policy) in policies)
        {
            var grpcIngress = policy["spec"]!["ingress"]!.AsArray().Where(rule => rule!["ports"]!.AsArray().Any(p => p!["port"]!.ToString() == "8081")).ToList();
            if (service == "gateway")
            {
                continue;
            }

            // Inside the cluster only, and only from named Keyward services.
            Assert.All(grpcIngress, rule => Assert.All(rule!["from"]!.AsArray(), peer => Assert.NotNull(peer!["podSelector"])));
        }

        var withIpBlocks = policies.Where(p => p.Value.ToJsonString().Contains("10.20.30.0/28")).Select(p => p.Key).ToList();
        if (set == "production")
        {
            Assert.Equal(["certificate-authority"], withIpBlocks);
        }
    }

    [Fact]
    public async Task No_secret_value_ends_up_in_a_ConfigMap()
    {
        string[] services = ["gateway", "keyserver", "metadata", "certificate-authority", "audit"];
        var manifests = await HelmChart.TemplateAsync([
            "--set", "postgres.existingSecret=", "--set", "rabbitmq.existingSecret=",
            .. services.SelectMany(s => new[] { "--set-string", $"postgres.passwords.{s}={PostgresPassword}-{s}", "--set-string", $"rabbitmq.passwords.{s}={RabbitPassword}-{s}" }),
            "--set-string", $"hsm.pin={HsmPin}", "--set", "serviceIdentity.existingSecret=",
            "--set-string", "serviceIdentity.publicKey=PUBLIC", "--set-string", "serviceIdentity.privateKey=PRIVATE-KEY-MATERIAL"]);

        var configMaps = string.Join('\n', Kind(manifests, "ConfigMap").Select(m => m.ToJsonString()));
        var deployments = string.Join('\n', Kind(manifests, "Deployment").Select(m => m.ToJsonString()));
        var secrets = string.Join('\n', Kind(manifests, "Secret").Select(m => m.ToJsonString()));

        foreach (var secret in services.SelectMany(s => new[] { $"{PostgresPassword}-{s}", $"{RabbitPassword}-{s}" }).Concat([HsmPin, "PRIVATE-KEY-MATERIAL"]))
        {
            Assert.DoesNotContain(secret, configMaps);
            Assert.DoesNotContain(secret, deployments);
            Assert.Contains(secret, secrets);
        }
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task Autoscaling_is_only_for_the_stateless_services(string set)
    {
        var manifests = await HelmChart.TemplateAsync(Values(set));

        var scaled = Kind(manifests, "HorizontalPodAutoscaler").Select(h => (string)h["spec"]!["scaleTargetRef"]!["name"]!).Order();

        Assert.Equal(["test-keyward-gateway", "test-keyward-keyserver", "test-keyward-metadata"], scaled);
        Assert.Equal(5, Kind(manifests, "PodDisruptionBudget").Count());
        Assert.Equal(5, Kind(manifests, "Service").Count(s => !Name(s).Contains("otel")));
    }

    [Fact]
    public async Task Production_mode_mounts_the_vendor_module_and_runs_a_schema_migration_first()
    {
        var manifests = await HelmChart.TemplateAsync(Values("production"));
        var ca = Kind(manifests, "Deployment").Single(d => Name(d) == "test-keyward-certificate-authority");
        var pod = ca["spec"]!["template"]!["spec"]!;

        Assert.Contains(pod["volumes"]!.AsArray(), v => (string?)v!["name"] == "hsm-module" && v["csi"] is not null);
        Assert.Contains(pod["initContainers"]!.AsArray(), c => (string?)c!["name"] == "migrate");
        Assert.DoesNotContain(manifests, m => (string?)m["kind"] == "PersistentVolumeClaim");
        var caConfig = Kind(manifests, "ConfigMap").Single(c => Name(c) == "test-keyward-certificate-authority");
        Assert.Equal("/opt/hsm/lib/libvendorpkcs11.so", (string)caConfig["data"]!["Keyward__Hsm__ModulePath"]!);
        Assert.Contains(manifests, m => (string?)m["kind"] == "Deployment" && Name(m).EndsWith("otel-collector", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task Limits_reach_the_services_as_plain_integers_and_only_the_minting_services_get_the_service_key(string set)
    {
        var manifests = await HelmChart.TemplateAsync(Values(set));
        var configs = Kind(manifests, "ConfigMap").Where(c => c["data"] is JsonObject).ToDictionary(Name, c => c["data"]!.AsObject());
        string? Setting(string service, string key) => configs.Single(c => c.Key.EndsWith(service, StringComparison.Ordinal)).Value[key]?.ToString();

        Assert.Equal("16777216", Setting("gateway", "Keyward__Gateway__Limits__MaxMetadataBytes"));
        Assert.Equal("65536", Setting("gateway", "Keyward__Gateway__Limits__KeyBodyBytes"));
        Assert.Equal("1048576", Setting("metadata", "Keyward__Metadata__Rules__MaxCounterStep"));
        Assert.Equal("2", Setting("keyserver", "Keyward__Recovery__Approvals__Release"));
        Assert.Matches("^[0-9]+$", Setting("certificate-authority", "Keyward__Ca__SignaturesPerTenantPerMinute"));
        Assert.NotNull(Setting("keyserver", "Keyward__ServiceIdentity__PrivateKeyFile"));
        Assert.NotNull(Setting("audit", "Keyward__ServiceIdentity__PrivateKeyFile"));
        Assert.Null(Setting("gateway", "Keyward__ServiceIdentity__PrivateKeyFile"));
        Assert.Null(Setting("metadata", "Keyward__ServiceIdentity__PrivateKeyFile"));
        // The logs: every service knows the origin prefix (the CA checks it), the audit service who publishes as whom.
        Assert.Equal("keyward.local", Setting("certificate-authority", "Keyward__Transparency__OriginPrefix"));
        Assert.Equal("keyward.local", Setting("audit", "Keyward__Transparency__OriginPrefix"));
        Assert.StartsWith("keyward", Setting("audit", "Keyward__Audit__Publishers__Users__certificate-authority"));
        Assert.NotNull(Setting("audit", "Keyward__Audit__Publishers__RequireServiceUser"));
        Assert.Equal("00:01:00", Setting("gateway", "Keyward__Gateway__RefusedTokens__Window"));
        // Metadata integrity: the limits and the signature policy (enforce unless a tenant is migrating old clients).
        Assert.Equal("16777216", Setting("metadata", "Keyward__Metadata__Limits__MaxBytes"));
        Assert.Equal("10000", Setting("metadata", "Keyward__Metadata__Limits__MaxFiledropEntries"));
        Assert.Equal("enforce", Setting("metadata", "Keyward__Metadata__SignaturePolicy__Default"));
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task The_running_CA_reads_its_PIN_from_a_file_and_never_gets_the_SO_PIN(string set)
    {
        var manifests = await HelmChart.TemplateAsync(Values(set));
        var ca = Kind(manifests, "Deployment").Single(d => Name(d).EndsWith("certificate-authority", StringComparison.Ordinal));
        var pod = ca["spec"]!["template"]!["spec"]!;
        var running = pod["containers"]!.AsArray().Concat(pod["initContainers"]?.AsArray().Where(c => (string?)c!["name"] == "migrate") ?? []).Select(c => c!.AsObject()).ToList();

        Assert.NotEmpty(running);
        Assert.All(running, container =>
        {
            var env = container["env"]?.AsArray().Select(e => (string?)e!["name"]).ToList() ?? [];
            Assert.DoesNotContain("HSM_SO_PIN", env);
            Assert.DoesNotContain("Keyward__Hsm__Pin", env);
            Assert.Contains(container["volumeMounts"]!.AsArray(), m => (string?)m!["name"] == "hsm-pin" && (string?)m["mountPath"] == "/etc/keyward/hsm");
        });
        var config = Kind(manifests, "ConfigMap").Single(c => Name(c).EndsWith("certificate-authority", StringComparison.Ordinal));
        Assert.Equal("/etc/keyward/hsm/pin", config["data"]!["Keyward__Hsm__PinFile"]!.ToString());
    }

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task Every_service_logs_in_to_the_database_and_the_broker_as_its_own_user_with_its_own_password(string set)
    {
        var manifests = await HelmChart.TemplateAsync(Values(set));

        foreach (var deployment in Kind(manifests, "Deployment").Where(d => !Name(d).Contains("otel", StringComparison.Ordinal)))
        {
            var service = Name(deployment)["test-keyward-".Length..];
            var account = "keyward_" + service.Replace('-', '_');
            var containers = deployment["spec"]!["template"]!["spec"]!["containers"]!.AsArray().Select(c => c!.AsObject());
            var env = containers.Single(c => (string?)c["name"] == service)["env"]!.AsArray().Select(e => e!.AsObject()).ToList();
            string Value(string name) => (string)env.Single(e => (string?)e["name"] == name)["value"]!;
            string SecretKey(string name) => (string)env.Single(e => (string?)e["name"] == name)["valueFrom"]!["secretKeyRef"]!["key"]!;

            Assert.Contains($"Username={account};", Value("ConnectionStrings__Postgres"));
            Assert.StartsWith($"amqp://{account}:", Value("ConnectionStrings__RabbitMq"));
            Assert.Equal($"postgres-password-{service}", SecretKey("POSTGRES_PASSWORD"));
            Assert.Equal($"rabbitmq-password-{service}", SecretKey("RABBITMQ_PASSWORD"));
        }
    }

    [Fact]
    public async Task Front_door_mode_gives_the_delegation_key_to_the_gateway_alone_and_its_public_half_to_every_service()
    {
        const string PublicKey = "-----BEGIN PUBLIC KEY-----\nDELEGATION\n-----END PUBLIC KEY-----";
        var values = Path.GetTempFileName();
        await File.WriteAllTextAsync(values, $$"""
            tenants:
              - id: cloud-example-com
                issuer: https://cloud.example.com
                signingKeys: ["-----BEGIN PUBLIC KEY-----\nOPERATOR\n-----END PUBLIC KEY-----"]
                nextcloud:
                  baseUrl: http://nextcloud.nextcloud.svc.cluster.local:8080/nextcloud
                  hosts: [cloud.example.com, files.example.com]
                  delegationPublicKey: "{{PublicKey.Replace("\n", "\\n")}}"
                  delegationKeySecret: { name: keyward-delegation, key: delegation.pem }
            """);
        var manifests = await HelmChart.TemplateAsync("-f", values);
        var (lint, lintOutput) = await HelmChart.RunAsync("lint", "--strict", HelmChart.ChartPath, "-f", values);
        File.Delete(values);

        Assert.True(lint == 0, lintOutput);
        var configs = Kind(manifests, "ConfigMap").Where(c => c["data"] is JsonObject).ToDictionary(Name, c => c["data"]!.AsObject());
        foreach (var service in new[] { "gateway", "keyserver", "metadata", "audit", "certificate-authority" })
        {
            var config = configs.Single(c => c.Key.EndsWith(service, StringComparison.Ordinal)).Value;
            Assert.Equal(PublicKey, config["Keyward__Tenants__cloud-example-com__SigningKeys__0"]?.ToString());
            Assert.Equal(service == "gateway", config.ContainsKey("Keyward__Tenants__cloud-example-com__Nextcloud__DelegationKeyFile"));
        }

        var gatewayConfig = configs.Single(c => c.Key.EndsWith("gateway", StringComparison.Ordinal)).Value;
        Assert.Equal("files.example.com", gatewayConfig["Keyward__Tenants__cloud-example-com__Nextcloud__Hosts__1"]?.ToString());
        var mounts = Kind(manifests, "Deployment").ToDictionary(Name, d => d["spec"]!["template"]!["spec"]!["volumes"]!.AsArray()
            .Where(v => v!["secret"]?["secretName"]?.ToString() == "keyward-delegation").ToList());
        Assert.All(mounts, m => Assert.Equal(m.Key.EndsWith("gateway", StringComparison.Ordinal) ? 1 : 0, m.Value.Count));
        var frontDoor = Assert.Single(Kind(manifests, "Ingress"), i => Name(i).Contains("frontdoor", StringComparison.Ordinal));
        Assert.Equal(["cloud.example.com", "files.example.com"], frontDoor["spec"]!["rules"]!.AsArray().Select(r => r!["host"]!.ToString()));
        Assert.Equal("0", frontDoor["metadata"]!["annotations"]!["nginx.ingress.kubernetes.io/proxy-body-size"]!.ToString());
        var gatewayPolicy = Kind(manifests, "NetworkPolicy").Single(p => Name(p).EndsWith("gateway", StringComparison.Ordinal));
        Assert.Contains(gatewayPolicy["spec"]!["egress"]!.AsArray(), rule => rule!["ports"]?.AsArray().Any(p => p!["port"]?.ToString() == "8080") == true);
    }
}
