using Vexlab.DocsCheck;

namespace Vexlab.Docs.Tests;

public sealed class ShellLineTests
{
    [Fact]
    public void Quotes_semicolons_redirects_and_comments_split_as_in_sh()
    {
        var commands = ShellLine.Parse("printf 'a\\nb: \"x\"\\n' > bad.yaml; vexlab validate bad.yaml; echo \"exit $?\"  # why");

        Assert.Equal(3, commands.Count);
        Assert.Equal(["printf", "a\\nb: \"x\"\\n"], commands[0].Words);
        Assert.Equal("bad.yaml", commands[0].RedirectTo);
        Assert.Equal(["vexlab", "validate", "bad.yaml"], commands[1].Words);
        Assert.Equal("exit 2", ShellLine.Expand(commands[2].Words[1], 2));
    }

    [Fact]
    public void A_protocol_list_with_brackets_stays_one_word()
    {
        var command = Assert.Single(ShellLine.Parse("vexlab compare --protocols 'kvm-pf-int,ve[guest.ve.can_continue=user]'"));

        Assert.Equal("kvm-pf-int,ve[guest.ve.can_continue=user]", command.Words[3]);
    }

    [Theory]
    [InlineData("vexlab run | head")]
    [InlineData("vexlab run && echo ok")]
    [InlineData("vexlab run $HOME")]
    [InlineData("vexlab run 'unclosed")]
    public void Shell_syntax_the_check_does_not_run_is_refused(string line)
    {
        Assert.Throws<FormatException>(() => ShellLine.Parse(line));
    }
}
