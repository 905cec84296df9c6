using Grpc.Core;

namespace Keyward.IntegrationTests.Infrastructure;

/// <summary>The machine-readable reason of a Keyward gRPC error (google.rpc.ErrorInfo in the status details trailer).</summary>
public static class ErrorInfoReader
{
    public static string? Reason(RpcException error)
    {
        var details = error.Trailers.GetValueBytes("grpc-status-details-bin");
        if (details is null)
        {
            return null;
        }

        var status = Google.Rpc.Status.Parser.ParseFrom(details);
        return status.Details.Where(d => d.Is(Google.Rpc.ErrorInfo.Descriptor)).Select(d => d.Unpack<Google.Rpc.ErrorInfo>().Reason).FirstOrDefault();
    }
}
