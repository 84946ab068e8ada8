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

    [Theory]
    [InlineData("trace-cmd report -N -i pc.dat | head -24", 24)]
    [InlineData("trace-cmd report -i pc.dat | head -n 3", 3)]
    [InlineData("trace-cmd report -i pc.dat|head -n3  # first lines", 3)]
    public void A_pipe_into_head_is_the_command_s_line_count(string line, int head)
    {
        var command = Assert.Single(ShellLine.Parse(line));

        Assert.Equal(["trace-cmd", "report"], command.Words.Take(2));
        Assert.Equal("pc.dat", command.Words[^1]);
        Assert.Equal(head, command.Head);
    }

    [Fact]
    public void Head_ends_at_a_semicolon_and_binds_to_its_own_command()
    {
        var commands = ShellLine.Parse("cat a.txt | head -2; cat b.txt");

        Assert.Equal(2, commands[0].Head);
        Assert.Null(commands[1].Head);
    }

    [Fact]
    public void A_protocol_list_with_brackets_stays_one_word()
    {
        var command = Assert.Single(ShellLine.Parse("vexlab compare --protocols 'kvm-pf-int,ve[guest.ve.can_continue=user]'"));

        Assert.Equal("kvm-pf-int,ve[guest.ve.can_continue=user]", command.Words[3]);
    }

    [Theory]
    [InlineData("vexlab run | head")]
    [InlineData("vexlab run | head 5")]
    [InlineData("vexlab run | grep kvm")]
    [InlineData("vexlab run | head -3 | head -2")]
    [InlineData("vexlab run | head -0")]
    [InlineData("| head -3")]
    [InlineData("vexlab run > out.txt | head -3")]
    [InlineData("vexlab run | head -3 > out.txt")]
    [InlineData("vexlab run && echo ok")]
    [InlineData("vexlab run $HOME")]
    [InlineData("vexlab run 'unclosed")]
    public void Shell_syntax_the_check_does_not_run_is_refused(string line)
    {
        Assert.Throws<FormatException>(() => ShellLine.Parse(line));
    }
}
