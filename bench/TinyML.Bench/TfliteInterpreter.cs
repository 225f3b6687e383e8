// SPDX-License-Identifier: Apache-2.0
using System;
using System.IO;
using System.Runtime.InteropServices;

/// <summary>
/// TensorFlow Lite 2.9's C library (build/tflite, fetched by ./build.sh setup as a test oracle) kept open on one model
/// for a warm invoke loop: one thread, its default (optimized) kernels.
/// </summary>
internal sealed unsafe class TfliteInterpreter : IDisposable
{
    private static IntPtr _library;
    private readonly IntPtr _model, _options, _interpreter;
    private readonly delegate* unmanaged[Cdecl]<IntPtr, int> _invoke;

    private static IntPtr Call(string name, IntPtr a) => ((delegate* unmanaged[Cdecl]<IntPtr, IntPtr>)NativeLibrary.GetExport(_library, name))(a);

    /// <summary>The library's path, or null with the reason when it is not there.</summary>
    public static string? Find(string repo, out string reason)
    {
        string path = Environment.GetEnvironmentVariable("TINYML_TFLITE_C") is { Length: > 0 } custom ? custom
            : Path.Combine(repo, "build", "tflite", "libtensorflowlite_c.so");
        reason = File.Exists(path) ? "" : $"TFLite's C library is not at {path} (./build.sh setup fetches it on linux-x64)";
        return File.Exists(path) ? path : null;
    }

    public TfliteInterpreter(string library, string modelFile)
    {
        if (_library == IntPtr.Zero) _library = NativeLibrary.Load(library);
        IntPtr name = Marshal.StringToHGlobalAnsi(modelFile);
        try { _model = Call("TfLiteModelCreateFromFile", name); }
        finally { Marshal.FreeHGlobal(name); }
        if (_model == IntPtr.Zero) throw new InvalidOperationException($"TFLite could not read {modelFile}");
        _options = ((delegate* unmanaged[Cdecl]<IntPtr>)NativeLibrary.GetExport(_library, "TfLiteInterpreterOptionsCreate"))();
        ((delegate* unmanaged[Cdecl]<IntPtr, int, void>)NativeLibrary.GetExport(_library, "TfLiteInterpreterOptionsSetNumThreads"))(_options, 1);
        _interpreter = ((delegate* unmanaged[Cdecl]<IntPtr, IntPtr, IntPtr>)NativeLibrary.GetExport(_library, "TfLiteInterpreterCreate"))(_model, _options);
        if (_interpreter == IntPtr.Zero) throw new InvalidOperationException($"TFLite could not create an interpreter for {modelFile}");
        if (((delegate* unmanaged[Cdecl]<IntPtr, int>)NativeLibrary.GetExport(_library, "TfLiteInterpreterAllocateTensors"))(_interpreter) != 0)
            throw new InvalidOperationException($"TFLite refused {modelFile} in AllocateTensors");
        _invoke = (delegate* unmanaged[Cdecl]<IntPtr, int>)NativeLibrary.GetExport(_library, "TfLiteInterpreterInvoke");
    }

    /// <summary>The bytes of input <paramref name="index"/>.</summary>
    public Span<byte> Input(int index) => Tensor("TfLiteInterpreterGetInputTensor", index);

    /// <summary>The bytes of output <paramref name="index"/>.</summary>
    public Span<byte> Output(int index) => Tensor("TfLiteInterpreterGetOutputTensor", index);

    private Span<byte> Tensor(string getter, int index)
    {
        IntPtr tensor = ((delegate* unmanaged[Cdecl]<IntPtr, int, IntPtr>)NativeLibrary.GetExport(_library, getter))(_interpreter, index);
        IntPtr data = Call("TfLiteTensorData", tensor);
        ulong bytes = (ulong)((delegate* unmanaged[Cdecl]<IntPtr, UIntPtr>)NativeLibrary.GetExport(_library, "TfLiteTensorByteSize"))(tensor);
        return new Span<byte>((void*)data, checked((int)bytes));
    }

    public void Run()
    {
        if (_invoke(_interpreter) != 0) throw new InvalidOperationException("TFLite's Invoke failed");
    }

    public void Dispose()
    {
        ((delegate* unmanaged[Cdecl]<IntPtr, void>)NativeLibrary.GetExport(_library, "TfLiteInterpreterDelete"))(_interpreter);
        ((delegate* unmanaged[Cdecl]<IntPtr, void>)NativeLibrary.GetExport(_library, "TfLiteInterpreterOptionsDelete"))(_options);
        ((delegate* unmanaged[Cdecl]<IntPtr, void>)NativeLibrary.GetExport(_library, "TfLiteModelDelete"))(_model);
    }
}
