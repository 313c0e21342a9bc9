/* The CUDA hook: page-lock a node-local buffer for a GPU with cuMemHostRegister.
 *
 * Compiled for real only when configure found cuda.h (DYN_HAVE_CUDA_H). Even then the driver
 * is opened at run time with dlopen, so libdyn links and runs on hosts without a GPU driver;
 * the calls then return DYN_ERR_UNAVAILABLE. The device's primary context is retained for the
 * life of the process, as the CUDA runtime does. */
#include "numa/internal.h"

#ifdef DYN_HAVE_CUDA_H
#include <cuda.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

typedef struct driver {
    void *lib;
    CUresult (*init)(unsigned);
    CUresult (*device_get)(CUdevice *, int);
    CUresult (*primary_retain)(CUcontext *, CUdevice);
    CUresult (*push)(CUcontext);
    CUresult (*pop)(CUcontext *);
    CUresult (*host_register)(void *, size_t, unsigned);
    CUresult (*host_unregister)(void *);
    CUresult (*error_string)(CUresult, const char **);
    char why[256];
} driver;

static driver drv;
static pthread_once_t drv_once = PTHREAD_ONCE_INIT;

static void *sym(const char *name)
{
    void *p = dlsym(drv.lib, name);
    if (!p && !drv.why[0])
        snprintf(drv.why, sizeof drv.why, "libcuda.so.1 has no %s", name);
    return p;
}

static void drv_load(void)
{
    drv.lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!drv.lib) {
        snprintf(drv.why, sizeof drv.why, "no NVIDIA driver library (libcuda.so.1)");
        return;
    }
    /* Versioned names: the plain ones are macros to these in cuda.h. */
    *(void **)&drv.init = sym("cuInit");
    *(void **)&drv.device_get = sym("cuDeviceGet");
    *(void **)&drv.primary_retain = sym("cuDevicePrimaryCtxRetain");
    *(void **)&drv.push = sym("cuCtxPushCurrent_v2");
    *(void **)&drv.pop = sym("cuCtxPopCurrent_v2");
    *(void **)&drv.host_register = sym("cuMemHostRegister_v2");
    *(void **)&drv.host_unregister = sym("cuMemHostUnregister");
    *(void **)&drv.error_string = sym("cuGetErrorString");
    if (drv.why[0])
        return;
    CUresult r = drv.init(0);
    if (r != CUDA_SUCCESS)
        snprintf(drv.why, sizeof drv.why, "cuInit failed with CUDA error %d", (int)r);
}

static dyn_status cu_fail(dyn_error *err, const char *what, CUresult r)
{
    const char *s = NULL;
    if (drv.error_string)
        drv.error_string(r, &s);
    return dyn_error_set(err, DYN_ERR_UNAVAILABLE, "%s: %s", what, s ? s : "CUDA error");
}

/* Makes the ordinal's primary context current; the caller pops it. */
static dyn_status push_device(int ordinal, dyn_error *err)
{
    pthread_once(&drv_once, drv_load);
    if (drv.why[0])
        return dyn_error_set(err, DYN_ERR_UNAVAILABLE, "CUDA: %s", drv.why);
    CUdevice dev;
    CUcontext ctx;
    CUresult r;
    if ((r = drv.device_get(&dev, ordinal)) != CUDA_SUCCESS)
        return cu_fail(err, "cuDeviceGet", r);
    if ((r = drv.primary_retain(&ctx, dev)) != CUDA_SUCCESS)
        return cu_fail(err, "cuDevicePrimaryCtxRetain", r);
    if ((r = drv.push(ctx)) != CUDA_SUCCESS)
        return cu_fail(err, "cuCtxPushCurrent", r);
    return DYN_OK;
}

dyn_status dyn_numa_cuda_register(void *ptr, size_t size, int ordinal, dyn_error *err)
{
    dyn_status st = push_device(ordinal, err);
    if (st)
        return st;
    CUresult r = drv.host_register(ptr, size, CU_MEMHOSTREGISTER_PORTABLE | CU_MEMHOSTREGISTER_DEVICEMAP);
    CUcontext popped;
    drv.pop(&popped);
    return r == CUDA_SUCCESS ? DYN_OK : cu_fail(err, "cuMemHostRegister", r);
}

dyn_status dyn_numa_cuda_unregister(void *ptr, dyn_error *err)
{
    pthread_once(&drv_once, drv_load);
    if (drv.why[0])
        return dyn_error_set(err, DYN_ERR_UNAVAILABLE, "CUDA: %s", drv.why);
    /* Portable registrations are unregistered from any context; use device 0's. */
    dyn_status st = push_device(0, err);
    if (st)
        return st;
    CUresult r = drv.host_unregister(ptr);
    CUcontext popped;
    drv.pop(&popped);
    return r == CUDA_SUCCESS ? DYN_OK : cu_fail(err, "cuMemHostUnregister", r);
}

#else /* no cuda.h at configure time */

dyn_status dyn_numa_cuda_register(void *ptr, size_t size, int ordinal, dyn_error *err)
{
    return dyn_error_set(err, DYN_ERR_UNAVAILABLE,
                         "libdyn was built without CUDA headers; cuMemHostRegister is not available");
}

dyn_status dyn_numa_cuda_unregister(void *ptr, dyn_error *err)
{
    return dyn_error_set(err, DYN_ERR_UNAVAILABLE,
                         "libdyn was built without CUDA headers; cuMemHostUnregister is not available");
}

#endif
