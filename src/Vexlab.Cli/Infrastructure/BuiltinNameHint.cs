using Vexlab.Model.Configuration;
using Vexlab.Scenarios;

namespace Vexlab.Cli.Infrastructure;

/// <summary>
/// A FILE argument that names no file but a built-in (<c>vexlab run postcopy</c>, <c>vexlab check wake-race</c>):
/// the error says which flag takes that name, where "no such scenario file" alone leaves a new user guessing.
/// </summary>
public static class BuiltinNameHint
{
    /// <summary>
    /// Refuses <paramref name="path"/> when no file or folder is there and it is one of <paramref name="builtins"/>
    /// (a <paramref name="what"/>, such as "scenario"); otherwise does nothing and the file is read as usual.
    /// </summary>
    public static void RefuseBuiltinName(string path, IEnumerable<string> builtins, string what)
    {
        if (File.Exists(path) || Directory.Exists(path) || !builtins.Contains(path, StringComparer.Ordinal))
        {
            return;
        }

        throw InputException.At(ErrorText.Path(path), 0, 0, null, $"no such {what} file; for the built-in {what} write --builtin {path}");
    }
}
