namespace Hypha.Cli;

/// <summary>Entry point of the <c>hypha</c> command: builds the verb tree and maps errors to exit codes.</summary>
public static class CliApp
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("hypha: no verbs yet");
        return 2;
    }
}
