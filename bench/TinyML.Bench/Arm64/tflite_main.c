/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tflite_main.c: TFLite's C API on one model, one thread: argv model input output runs. The input is set once (TFLite
 * keeps it), the model invoked `runs` times, the first output written. Exit 0 on success.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

void *TfLiteModelCreateFromFile(const char *path);
void *TfLiteInterpreterOptionsCreate(void);
void TfLiteInterpreterOptionsSetNumThreads(void *options, int threads);
void *TfLiteInterpreterCreate(const void *model, const void *options);
int TfLiteInterpreterAllocateTensors(void *interpreter);
void *TfLiteInterpreterGetInputTensor(const void *interpreter, int index);
const void *TfLiteInterpreterGetOutputTensor(const void *interpreter, int index);
void *TfLiteTensorData(const void *tensor);
size_t TfLiteTensorByteSize(const void *tensor);
int TfLiteInterpreterInvoke(void *interpreter);

int main(int argc, char **argv)
{
    if (argc != 5) {
        return 2;
    }
    void *model = TfLiteModelCreateFromFile(argv[1]);
    void *options = TfLiteInterpreterOptionsCreate();
    TfLiteInterpreterOptionsSetNumThreads(options, 1);
    void *interpreter = model != NULL ? TfLiteInterpreterCreate(model, options) : NULL;
    if (interpreter == NULL || TfLiteInterpreterAllocateTensors(interpreter) != 0) {
        return 3;
    }
    void *input = TfLiteInterpreterGetInputTensor(interpreter, 0);
    FILE *f = fopen(argv[2], "rb");
    if (f == NULL || fread(TfLiteTensorData(input), 1, TfLiteTensorByteSize(input), f) != TfLiteTensorByteSize(input)) {
        return 4;
    }
    fclose(f);
    const long runs = atol(argv[4]);
    for (long r = 0; r < runs; r++) {
        if (TfLiteInterpreterInvoke(interpreter) != 0) {
            return 5;
        }
    }
    const void *output = TfLiteInterpreterGetOutputTensor(interpreter, 0);
    f = fopen(argv[3], "wb");
    if (f == NULL) {
        return 6;
    }
    fwrite(TfLiteTensorData(output), 1, TfLiteTensorByteSize(output), f);
    fclose(f);
    return 0;
}
