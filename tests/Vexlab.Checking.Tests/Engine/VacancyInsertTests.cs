using Vexlab.Checking.Engine;

namespace Vexlab.Checking.Tests.Engine;

/// <summary>
/// The shared search looks every successor up while the table is read only, then inserts the new ones from the empty
/// slot the lookup ended at (its vacancy). Linear probing never removes a key, so that is where a full probe from the
/// home would put it; these tests hold the table to it.
/// </summary>
public sealed class VacancyInsertTests
{
    private static ulong[] Keys(int count, int seed)
    {
        var random = new Random(seed);
        var keys = new HashSet<ulong>();
        while (keys.Count < count)
        {
            ulong key = (ulong)random.NextInt64() | 1;
            keys.Add(key);
        }

        return [.. keys];
    }

    private static FingerprintTable<ulong, Fingerprint64> Loaded(ulong[] keys)
    {
        var table = new FingerprintTable<ulong, Fingerprint64>(12, trackIds: false);
        foreach (ulong key in keys)
        {
            table.InsertAbsent(key);
        }

        table.Added(keys.Length);
        return table;
    }

    private static byte[] Image(FingerprintTable<ulong, Fingerprint64> table)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            table.WriteTo(writer);
        }

        return stream.ToArray();
    }

    [Fact]
    public void Inserts_from_their_lookups_vacancies_leave_the_slots_a_full_probe_leaves()
    {
        // 3,000 keys in 4,096 slots (73%), then 500 absent ones looked up first and inserted afterwards in order:
        // a later key's vacancy may have been taken by an earlier one, and its probe must go on from there.
        ulong[] present = Keys(3_000, 1);
        ulong[] absent = Keys(3_500, 2).Except(present).Take(500).ToArray();
        using FingerprintTable<ulong, Fingerprint64> probed = Loaded(present);
        using FingerprintTable<ulong, Fingerprint64> fromVacancy = Loaded(present);
        long layout = fromVacancy.Layout;
        int[] vacancies = new int[absent.Length];
        for (int k = 0; k < absent.Length; k++)
        {
            Assert.Equal(-2, fromVacancy.Find(absent[k], out vacancies[k]));
            Assert.InRange(vacancies[k], 0, (int)fromVacancy.Capacity - 1);
        }

        for (int k = 0; k < absent.Length; k++)
        {
            probed.InsertAbsent(absent[k]);
            fromVacancy.InsertAbsent(absent[k], vacancies[k]);
        }

        probed.Added(absent.Length);
        fromVacancy.Added(absent.Length);
        Assert.Equal(layout, fromVacancy.Layout);
        Assert.Equal(Image(probed), Image(fromVacancy));
        foreach (ulong key in present.Concat(absent))
        {
            Assert.Equal(-1, fromVacancy.Find(key));
        }
    }

    [Fact]
    public void Concurrent_inserts_from_vacancies_all_land_and_are_found()
    {
        ulong[] present = Keys(2_000, 3);
        ulong[] absent = Keys(3_400, 4).Except(present).Take(1_200).ToArray();
        using FingerprintTable<ulong, Fingerprint64> table = Loaded(present);
        int[] vacancies = new int[absent.Length];
        for (int k = 0; k < absent.Length; k++)
        {
            table.Find(absent[k], out vacancies[k]);
        }

        Parallel.For(0, 4, w =>
        {
            for (int k = w; k < absent.Length; k += 4)
            {
                table.InsertAbsent(absent[k], vacancies[k]);
            }
        });
        table.Added(absent.Length);

        Assert.Equal(present.Length + absent.Length, table.Count);
        foreach (ulong key in present.Concat(absent))
        {
            Assert.Equal(-1, table.Find(key));
        }
    }

    [Fact]
    public void A_growth_changes_the_layout_so_earlier_vacancies_are_not_used()
    {
        using FingerprintTable<ulong, Fingerprint64> table = Loaded(Keys(1_000, 5));
        long before = table.Layout;
        table.Grow();
        Assert.NotEqual(before, table.Layout);
    }

    [Fact]
    public void A_key_found_has_no_vacancy()
    {
        ulong[] present = Keys(100, 6);
        using FingerprintTable<ulong, Fingerprint64> table = Loaded(present);
        Assert.Equal(-1, table.Find(present[0], out int vacancy));
        Assert.Equal(-1, vacancy);
    }
}
