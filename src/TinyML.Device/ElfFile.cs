// SPDX-License-Identifier: Apache-2.0
using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace TinyML.Device;

/// <summary>A section of an ELF file.</summary>
public sealed record ElfSection(string Name, uint Type, uint Flags, uint Address, uint Size)
{
    /// <summary>SHF_ALLOC: the section occupies memory on the device.</summary>
    public bool Allocated => (Flags & 0x2) != 0;
    /// <summary>SHF_WRITE.</summary>
    public bool Writable => (Flags & 0x1) != 0;
    /// <summary>SHT_NOBITS: no bytes in the file (.bss, .stack).</summary>
    public bool NoBits => Type == 8;
}

/// <summary>A symbol of an ELF file.</summary>
public sealed record ElfSymbol(string Name, uint Value, uint Size, bool IsFunction, bool IsObject, bool IsGlobal);

/// <summary>
/// Reads the section headers and the symbol table of a 32-bit little-endian ELF file (what arm-none-eabi-ld
/// writes), so that sizes come from the linked image itself. Checks every offset against the file length.
/// </summary>
public sealed class ElfFile
{
    private ElfFile(IReadOnlyList<ElfSection> sections, IReadOnlyList<ElfSymbol> symbols)
    {
        Sections = sections;
        Symbols = symbols;
    }

    /// <summary>Every section, in file order.</summary>
    public IReadOnlyList<ElfSection> Sections { get; }

    /// <summary>Every named symbol of .symtab.</summary>
    public IReadOnlyList<ElfSymbol> Symbols { get; }

    /// <summary>Reads an ELF32 little-endian file.</summary>
    public static ElfFile Read(string path) => Parse(File.ReadAllBytes(path), path);

    internal static ElfFile Parse(byte[] data, string what)
    {
        Exception Bad(string why) => new InvalidDataException($"{what}: not a 32-bit little-endian ELF file ({why})");
        if (data.Length < 52 || data[0] != 0x7F || data[1] != (byte)'E' || data[2] != (byte)'L' || data[3] != (byte)'F') throw Bad("magic");
        if (data[4] != 1 || data[5] != 1) throw Bad("class or byte order");
        uint U32(int at) => at >= 0 && at + 4 <= data.Length ? BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(at)) : throw Bad("offset out of range");
        ushort U16(int at) => at >= 0 && at + 2 <= data.Length ? BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(at)) : throw Bad("offset out of range");
        int shoff = checked((int)U32(0x20));
        int shentsize = U16(0x2E), shnum = U16(0x30), shstrndx = U16(0x32);
        if (shentsize < 40 || shstrndx >= shnum) throw Bad("section header table");
        var raw = new List<(uint Name, uint Type, uint Flags, uint Addr, uint Offset, uint Size, uint Link, uint EntSize)>();
        for (int i = 0; i < shnum; i++)
        {
            int at = checked(shoff + i * shentsize);
            raw.Add((U32(at), U32(at + 4), U32(at + 8), U32(at + 12), U32(at + 16), U32(at + 20), U32(at + 24), U32(at + 36)));
        }
        string Str(uint tableOffset, uint tableSize, uint index)
        {
            if (index >= tableSize) throw Bad("string index");
            int start = checked((int)(tableOffset + index)), end = start;
            int limit = checked((int)(tableOffset + tableSize));
            if (limit > data.Length) throw Bad("string table");
            while (end < limit && data[end] != 0) end++;
            return Encoding.UTF8.GetString(data, start, end - start);
        }
        var names = raw[shstrndx];
        var sections = new List<ElfSection>();
        foreach (var s in raw) sections.Add(new ElfSection(Str(names.Offset, names.Size, s.Name), s.Type, s.Flags, s.Addr, s.Size));

        var symbols = new List<ElfSymbol>();
        for (int i = 0; i < raw.Count; i++)
        {
            var s = raw[i];
            if (s.Type != 2 /* SHT_SYMTAB */ || s.EntSize < 16 || s.Link >= raw.Count) continue;
            var strtab = raw[(int)s.Link];
            for (uint at = s.Offset; at + 16 <= s.Offset + s.Size; at += s.EntSize)
            {
                int a = checked((int)at);
                uint nameIndex = U32(a);
                if (nameIndex == 0) continue;
                byte info = a + 12 < data.Length ? data[a + 12] : throw Bad("symbol");
                int type = info & 0xF, bind = info >> 4;
                symbols.Add(new ElfSymbol(Str(strtab.Offset, strtab.Size, nameIndex), U32(a + 4), U32(a + 8), type == 2, type == 1, bind != 0));
            }
        }
        return new ElfFile(sections, symbols);
    }
}
