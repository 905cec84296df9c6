using System.CommandLine;
using Keyward.Cli;

var root = new RootCommand("keyward: the Keyward command line (end-to-end encryption keys, folders and the audit trail)");
foreach (var command in UserCommands.Create())
{
    root.Subcommands.Add(command);
}

root.Subcommands.Add(AuditCommands.Create());
return await root.Parse(args).InvokeAsync();
