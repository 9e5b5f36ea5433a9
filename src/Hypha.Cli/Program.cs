return Hypha.Cli.CliApp.Run(args);
