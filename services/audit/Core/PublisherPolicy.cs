using Keyward.AuditTrail;

namespace Keyward.Audit.Core;

/// <summary><c>Keyward:Audit:Publishers</c>: which broker user each service publishes as.</summary>
public sealed class PublisherOptions
{
    public const string Section = "Keyward:Audit:Publishers";

    /// <summary>
    /// Off only where every service shares one broker user (Helm's <c>rabbitmq.userPerService: false</c>): then the
    /// broker cannot say who published, and only the kinds are checked.
    /// </summary>
    public bool RequireServiceUser { get; set; } = true;

    /// <summary>Service name → broker user; a service not listed publishes as <c>keyward_&lt;service&gt;</c> (dashes as underscores).</summary>
    public Dictionary<string, string> Users { get; set; } = [];
}

/// <summary>
/// Who may say what: an event names the service that recorded it, the broker vouches for the user that published
/// it (RabbitMQ checks the <c>user_id</c> property against the connection's user), and each service may emit only
/// its own kinds of action. So broker credentials of one service cannot put words in another's mouth. One service
/// carries another's events: the keyserver commits the CA's certificate events with the certificate, and those
/// are logged only with the CA's receipt, signed in the HSM (<see cref="ReceiptVerifier"/>).
/// </summary>
public sealed class PublisherPolicy(PublisherOptions options)
{
    private static readonly Dictionary<string, string[]> Kinds = new(StringComparer.Ordinal)
    {
        ["gateway"] = ["auth.", "ocs.", "webdav."],
        ["keyserver"] = ["keys."],
        ["metadata"] = ["metadata."],
        ["certificate-authority"] = ["ca."],
    };

    /// <summary>Recording service → the service that may carry its events to the broker, with the recorder's receipt.</summary>
    private static readonly Dictionary<string, string> Carriers = new(StringComparer.Ordinal)
    {
        ["certificate-authority"] = "keyserver",
    };

    public const string RefusedAction = "audit.event.refused";

    /// <summary>Whether the event reached the broker through the service that carries its recorder's events, so its receipt decides.</summary>
    public bool IsCarried(string? publisher, AuditEvent e) =>
        options.RequireServiceUser && Carriers.TryGetValue(e.Service, out var carrier) && publisher == UserOf(carrier) && publisher != UserOf(e.Service);

    /// <summary>Null when the event may be logged as it is; otherwise why not. <paramref name="receiptVerified"/> counts only for a carried event.</summary>
    public string? Check(string? publisher, AuditEvent e, bool receiptVerified = false)
    {
        if (!Kinds.TryGetValue(e.Service, out var kinds))
        {
            return $"'{Cut(e.Service)}' is not a service that records audit events";
        }

        if (!kinds.Any(k => e.Action.StartsWith(k, StringComparison.Ordinal)))
        {
            return $"the {e.Service} service does not record '{Cut(e.Action)}' events";
        }

        if (!options.RequireServiceUser)
        {
            return null;
        }

        if (IsCarried(publisher, e))
        {
            return receiptVerified ? null : $"carried by the {Carriers[e.Service]} service without a valid receipt of the {e.Service} service";
        }

        return publisher == UserOf(e.Service) ? null : $"published as broker user '{Cut(publisher ?? "")}', not the {e.Service} service's";
    }

    private string UserOf(string service) => options.Users.TryGetValue(service, out var user) ? user : "keyward_" + service.Replace('-', '_');

    /// <summary>What is logged instead of a refused event: that it came, from whom, claiming what.</summary>
    public static AuditEvent Refused(AuditEvent claimed, string? publisher, string problem, DateTimeOffset now) => new()
    {
        EventId = claimed.EventId,
        TenantId = claimed.TenantId,
        OccurredAt = now,
        Actor = new AuditActor(Cut(publisher ?? "unknown"), [], null, null),
        Action = RefusedAction,
        Target = new AuditTarget("audit_event", claimed.EventId.ToString("D")),
        Outcome = AuditOutcome.Denied(problem),
        Details = new Dictionary<string, string> { ["claimed_service"] = Cut(claimed.Service), ["claimed_action"] = Cut(claimed.Action) },
        Service = "audit",
    };

    private static string Cut(string value) => value.Length <= 64 ? value : value[..64];
}
