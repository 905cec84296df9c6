namespace Keyward.Cli;

/// <summary>A failure the CLI explains in one line (no stack trace) before exiting non-zero.</summary>
internal sealed class CliError(string message) : Exception(message);
