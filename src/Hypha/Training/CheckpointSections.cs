using System.Security.Cryptography;
using System.Text;

namespace Hypha.Training;

/// <summary>
/// Checksums of a checkpoint's sections (format 3 on): the writer hashes each section (header, rng, weights, optimizer)
/// with SHA-256 as it is written and appends a table (name, offset, length, hash per section, then the table's own
/// hash and offset) before the end marker. A reader checks the table and the sections before anything is loaded, so
/// overwritten bytes anywhere are refused naming the section instead of loading into weights that make black images.
/// </summary>
public static class CheckpointSections
{
    public const int FirstFormat = 3;
    const int HashLength = 32;

    /// <summary>A section's place in the file and its SHA-256.</summary>
    public sealed record Section(string Name, long Offset, long Length, byte[] Hash);

    /// <summary>Passes writes through to the file, hashing the current section.</summary>
    public sealed class Writer(Stream inner) : Stream
    {
        readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        readonly List<Section> _sections = [];
        string? _name;
        long _start, _position;

        /// <summary>Ends the current section and starts <paramref name="name"/> (flush <paramref name="w"/> first).</summary>
        public void Begin(BinaryWriter w, string name)
        {
            w.Flush();
            End();
            (_name, _start) = (name, _position);
        }

        void End()
        {
            if (_name is not null) _sections.Add(new Section(_name, _start, _position - _start, _hash.GetHashAndReset()));
            _name = null;
        }

        /// <summary>Ends the last section and writes the table, its hash and its offset.</summary>
        public void WriteTable(BinaryWriter w)
        {
            w.Flush();
            End();
            var tableOffset = _position;
            using var ms = new MemoryStream();
            using (var t = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
            {
                t.Write(_sections.Count);
                foreach (var s in _sections) { t.Write(s.Name); t.Write(s.Offset); t.Write(s.Length); t.Write(s.Hash); }
            }
            var table = ms.ToArray();
            w.Write(table);
            w.Write(SHA256.HashData(table));
            w.Write(tableOffset);
            w.Flush();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (_name is not null) _hash.AppendData(buffer);
            inner.Write(buffer);
            _position += buffer.Length;
        }

        public override void Flush() => inner.Flush();
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _position;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>
    /// Checks a format-3 checkpoint open in <paramref name="fs"/>: the end marker (a full-length file whose marker is
    /// wrong is damaged, not truncated), the table and the sections (all, or only the header). Throws exit 4 naming
    /// what is damaged and how to roll back.
    /// </summary>
    public static IReadOnlyList<Section> Check(FileStream fs, string path, byte[] endMarker, bool all)
    {
        var len = fs.Length;
        var tail = new byte[endMarker.Length];
        fs.Seek(-endMarker.Length, SeekOrigin.End);
        fs.ReadExactly(tail);
        var endOk = tail.AsSpan().SequenceEqual(endMarker);
        var sections = ReadTable(fs, len - endMarker.Length);
        if (sections is null)
            throw endOk ? Damaged(path, "its section table") : Truncated(path);
        if (!endOk) throw Damaged(path, "its end marker");
        foreach (var s in sections)
        {
            if (!all && s.Name != "header") continue;
            fs.Seek(s.Offset, SeekOrigin.Begin);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 16];
            for (var left = s.Length; left > 0;)
            {
                var n = fs.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (n <= 0) throw Damaged(path, $"its {s.Name} section");
                hash.AppendData(buffer, 0, n);
                left -= n;
            }
            if (!hash.GetHashAndReset().AsSpan().SequenceEqual(s.Hash)) throw Damaged(path, $"its {s.Name} section");
        }
        return sections;
    }

    /// <summary>
    /// For a file whose format number says 1 or 2: refuses it when it holds a format-3 section table, that is when the
    /// format number itself was overwritten (read as format 2 it would load without any check).
    /// </summary>
    public static void RefuseIfSectioned(FileStream fs, string path, int endMarkerLength)
    {
        if (ReadTable(fs, fs.Length - endMarkerLength) is not null) throw Damaged(path, "its header section");
    }

    /// <summary>The table ending at <paramref name="end"/>, or null when its offset, layout or hash does not hold.</summary>
    static List<Section>? ReadTable(FileStream fs, long end)
    {
        try
        {
            if (end < 8 + HashLength) return null;
            using var r = new BinaryReader(fs, Encoding.UTF8, leaveOpen: true);
            fs.Seek(end - 8, SeekOrigin.Begin);
            var tableOffset = r.ReadInt64();
            var tableLength = end - 8 - HashLength - tableOffset;
            if (tableOffset < 0 || tableLength < 4 || tableLength > 1 << 20) return null;
            fs.Seek(tableOffset, SeekOrigin.Begin);
            var table = r.ReadBytes((int)tableLength);
            var stored = r.ReadBytes(HashLength);
            if (!SHA256.HashData(table).AsSpan().SequenceEqual(stored)) return null;
            using var t = new BinaryReader(new MemoryStream(table), Encoding.UTF8);
            var n = t.ReadInt32();
            var list = new List<Section>();
            for (var i = 0; i < n; i++) list.Add(new Section(t.ReadString(), t.ReadInt64(), t.ReadInt64(), t.ReadBytes(HashLength)));
            return list;
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException) { return null; }
    }

    /// <summary>The checkpoint kept before <paramref name="last"/> (<c>previous.ckpt</c> beside it).</summary>
    public static string PreviousOf(string last) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(last))!, "previous.ckpt");

    /// <summary>
    /// Before <paramref name="last"/> is replaced, keeps it as previous.ckpt: a copy made under a temp name and renamed into
    /// place, so previous.ckpt is always whole.
    /// </summary>
    public static void KeepPrevious(string last)
    {
        if (!File.Exists(last) || Path.GetFileName(last) != "last.ckpt") return;
        var previous = PreviousOf(last);
        var tmp = previous + ".copy.tmp";
        try
        {
            if (File.Exists(tmp)) File.Delete(tmp);
            File.Copy(last, tmp, overwrite: true);
            File.Move(tmp, previous, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(tmp); } catch (Exception) { } // keeping the previous one is a courtesy, never a reason to stop
        }
    }

    static string Rollback(string path)
    {
        var previous = PreviousOf(path);
        return File.Exists(previous) && Path.GetFullPath(previous) != Path.GetFullPath(path)
            ? $"to roll back to the checkpoint before it, copy {previous} over it"
            : "no earlier checkpoint is kept beside it; copy it again or train again";
    }

    static HyphaException Damaged(string path, string what) =>
        new(ExitCode.BadCheckpoint, $"the checkpoint is damaged: {what} fails its SHA-256 check (bytes were overwritten on disk or in a copy); {Rollback(path)}", path);

    static HyphaException Truncated(string path) =>
        new(ExitCode.BadCheckpoint, $"the checkpoint is truncated (its end marker is missing): it was cut short while being written or copied; {Rollback(path)}", path);

}
