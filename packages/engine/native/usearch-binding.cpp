/**
 *  Conifer's build of usearch's Node.js binding: usearch 2.25.3's `javascript/lib.cpp` (Apache-2.0, Ash Vardanian,
 *  Unum Cloud), compiled by `build.ts` against usearch's own headers, with four changes for how the vector store uses
 *  a graph (see README.md "The compiled usearch binding"):
 *   - usearch's headers are patched by `build.ts` so that a search first loads the first byte of every neighbour
 *     vector it is about to score (usearch passes no prefetch to its walk, and a software prefetch that misses
 *     the TLB is dropped on the VMs measured here; the loads overlap, the scoring then hits the cache), loads the
 *     next candidate's node ahead, and reads no node for a key check (the store never removes from a graph).
 *   - an 8th constructor argument turns the key -> slot table off (`enable_key_lookups`): the store never looks a
 *     key up, and building that table is most of what `view` costs on a large graph.
 *   - `viewAsync` maps a graph on libuv's pool, after dropping the file's page cache so that the mapping (advised
 *     for huge pages and populated by `build.ts`'s patch of `index.hpp`) reads it back in 2 MB pages; given a size
 *     and CRC-32, it checks them on that read and views only a file that matches.
 *   - `view` does not re-reserve capacity (a viewed graph is read-only); `remove`, `contains` and `count` (they need
 *     the key table) and `exactSearch` (the engine calls usearch's own) are left out.
 */
#include <charconv> // `std::from_chars`
#include <cmath>    // `std::isfinite`
#include <cstdint>  // `std::uintptr_t`
#include <cstring>  // `std::memcpy`
#include <new>      // `std::bad_alloc`
#include <optional> // `std::optional`
#include <thread>   // `std::thread::hardware_concurrency()`

#include <fcntl.h>    // `posix_fadvise`
#include <sys/mman.h> // `madvise`
#include <sys/stat.h> // `fstat`
#include <unistd.h>   // `fdatasync`

#if defined(__GLIBC__)
#include <malloc.h> // `malloc_trim`
#endif

#include <zlib.h> // `crc32_z`: Node's own zlib (the node binary exports it to addons)

#define NAPI_CPP_EXCEPTIONS
#include <napi.h>
#include <node_api.h>

#include <usearch/index_dense.hpp>

using namespace unum::usearch;
using namespace unum;

using index_error_t = usearch::error_t;
using add_result_t = typename index_dense_t::add_result_t;
using search_result_t = typename index_dense_t::search_result_t;
using state_result_t = typename index_dense_t::state_result_t;

class CompiledIndex : public Napi::ObjectWrap<CompiledIndex> {
  public:
    static Napi::Object Init(Napi::Env env, Napi::Object exports);
    CompiledIndex(Napi::CallbackInfo const& ctx);

  private:
    Napi::Value GetDimensions(Napi::CallbackInfo const& ctx);
    Napi::Value GetSize(Napi::CallbackInfo const& ctx);
    Napi::Value GetCapacity(Napi::CallbackInfo const& ctx);
    Napi::Value GetConnectivity(Napi::CallbackInfo const& ctx);

    void Save(Napi::CallbackInfo const& ctx);
    void Load(Napi::CallbackInfo const& ctx);
    void View(Napi::CallbackInfo const& ctx);
    Napi::Value ViewAsync(Napi::CallbackInfo const& ctx);

    void Add(Napi::CallbackInfo const& ctx);
    Napi::Value Search(Napi::CallbackInfo const& ctx);

    std::unique_ptr<index_dense_t> native_;
    std::mutex mtx;

    friend class ViewWorker;
};

Napi::Object CompiledIndex::Init(Napi::Env env, Napi::Object exports) {
    Napi::Function func = DefineClass( //
        env, "CompiledIndex",
        {
            InstanceMethod("dimensions", &CompiledIndex::GetDimensions),
            InstanceMethod("size", &CompiledIndex::GetSize),
            InstanceMethod("capacity", &CompiledIndex::GetCapacity),
            InstanceMethod("connectivity", &CompiledIndex::GetConnectivity),
            InstanceMethod("add", &CompiledIndex::Add),
            InstanceMethod("search", &CompiledIndex::Search),
            InstanceMethod("save", &CompiledIndex::Save),
            InstanceMethod("load", &CompiledIndex::Load),
            InstanceMethod("view", &CompiledIndex::View),
            InstanceMethod("viewAsync", &CompiledIndex::ViewAsync),
        });

    Napi::FunctionReference* constructor = new Napi::FunctionReference();
    *constructor = Napi::Persistent(func);
    env.SetInstanceData(constructor);

    exports.Set("CompiledIndex", func);
    return exports;
}

std::size_t napi_argument_to_size(Napi::Value v) {
    return static_cast<std::size_t>(v.As<Napi::Number>().DoubleValue());
}

CompiledIndex::CompiledIndex(Napi::CallbackInfo const& ctx) : Napi::ObjectWrap<CompiledIndex>(ctx) {
    // Directly assign the parameters without checks
    std::size_t dimensions = napi_argument_to_size(ctx[0]);
    metric_kind_t metric_kind = metric_from_name(ctx[1].As<Napi::String>().Utf8Value().c_str());
    scalar_kind_t quantization = scalar_kind_from_name(ctx[2].As<Napi::String>().Utf8Value().c_str());
    std::size_t connectivity = napi_argument_to_size(ctx[3]);
    std::size_t expansion_add = napi_argument_to_size(ctx[4]);
    std::size_t expansion_search = napi_argument_to_size(ctx[5]);
    bool multi = ctx[6].As<Napi::Boolean>().Value();
    bool key_lookups = ctx.Length() < 8 || ctx[7].As<Napi::Boolean>().Value();

    metric_punned_t metric(dimensions, metric_kind, quantization);
    if (metric.missing()) {
        Napi::TypeError::New(ctx.Env(), "Failed to initialize the metric!").ThrowAsJavaScriptException();
        return;
    }

    index_dense_config_t config(connectivity, expansion_add, expansion_search);
    config.multi = multi;
    config.enable_key_lookups = key_lookups;
    state_result_t result = index_dense_t::make(metric, config);
    if (!result) {
        Napi::TypeError::New(ctx.Env(), result.error.release()).ThrowAsJavaScriptException();
        return;
    }
    native_.reset(new index_dense_t(std::move(result.index)));
    if (!native_)
        Napi::Error::New(ctx.Env(), "Out of memory!").ThrowAsJavaScriptException();
}

Napi::Value CompiledIndex::GetDimensions(Napi::CallbackInfo const& ctx) {
    return Napi::Number::New(ctx.Env(), static_cast<std::uint64_t>(native_->dimensions()));
}
Napi::Value CompiledIndex::GetConnectivity(Napi::CallbackInfo const& ctx) {
    return Napi::Number::New(ctx.Env(), static_cast<std::uint64_t>(native_->connectivity()));
}
Napi::Value CompiledIndex::GetSize(Napi::CallbackInfo const& ctx) {
    return Napi::Number::New(ctx.Env(), static_cast<std::uint64_t>(native_->size()));
}
Napi::Value CompiledIndex::GetCapacity(Napi::CallbackInfo const& ctx) {
    return Napi::Number::New(ctx.Env(), static_cast<std::uint64_t>(native_->capacity()));
}

/** Runs a file operation on `ctx[0]`'s path; a failed result or an exception becomes a JS TypeError. */
template <typename operation_at>
static bool on_path(Napi::CallbackInfo const& ctx, char const* failure, operation_at&& operation) {
    try {
        std::string path = ctx[0].As<Napi::String>();
        auto result = operation(path.c_str());
        if (result)
            return true;
        Napi::TypeError::New(ctx.Env(), result.error.release()).ThrowAsJavaScriptException();
    } catch (...) {
        Napi::TypeError::New(ctx.Env(), failure).ThrowAsJavaScriptException();
    }
    return false;
}

void CompiledIndex::Save(Napi::CallbackInfo const& ctx) {
    on_path(ctx, "Serialization failed", [this](char const* path) { return native_->save(path); });
}

void CompiledIndex::Load(Napi::CallbackInfo const& ctx) {
    if (on_path(ctx, "Loading failed", [this](char const* path) { return native_->load(path); }) &&
        !native_->try_reserve(ceil2(native_->size())))
        Napi::Error::New(ctx.Env(), "Failed to reserve memory").ThrowAsJavaScriptException();
}

void CompiledIndex::View(Napi::CallbackInfo const& ctx) {
    on_path(ctx, "Memory-mapping failed", [this](char const* path) { return native_->view(path); });
}

/**
 * `viewAsync`: maps a saved graph on a thread of libuv's pool, so that neither the page faults nor usearch's pass over
 * every node's level (tens of ms at 1M nodes) run on the event loop. The file's cached pages are first written back
 * and dropped: read back through the mapping (which the patched `memory_mapped_file_t` advises for huge pages and
 * populates), the kernel caches and maps it in 2 MB pages, where pages the builder wrote stay 4 KB ones. The index
 * object must not be used until the promise settles (the TypeScript side installs it only then).
 */
class ViewWorker : public Napi::AsyncWorker {
  public:
    /** Without `check`, the file is viewed as it is; with it, only if it has `bytes` bytes of CRC-32 `crc32`. */
    struct Check {
        std::uint64_t bytes;
        std::uint32_t crc32;
    };

    ViewWorker(Napi::Env env, CompiledIndex* index, std::string path, std::optional<Check> check)
        : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), index_(index), path_(std::move(path)),
          check_(check) {
        // Keeps the index object (and its native index) alive while the pool thread uses it.
        owner_ = Napi::Persistent(index->Value());
    }

    Napi::Promise Promise() const { return deferred_.Promise(); }

  protected:
    void Execute() override {
        int descriptor = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (descriptor >= 0) {
            // Dirty pages cannot be dropped: write them back first (the snapshot that later keeps this file
            // fsyncs it anyway). Failures only cost the huge pages, not the view.
            ::fdatasync(descriptor);
            ::posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED);
            char const* mismatch = check_ ? verify(descriptor) : nullptr;
            ::close(descriptor);
            if (mismatch != nullptr) {
                SetError(mismatch);
                return;
            }
        } else if (check_) {
            SetError("graph file is missing");
            return;
        }
        try {
            auto result = index_->native_->view(path_.c_str());
            if (!result)
                SetError(result.error.release());
        } catch (...) {
            SetError("Memory-mapping failed");
        }
    }
    void OnOK() override { deferred_.Resolve(Env().Undefined()); }
    void OnError(Napi::Error const& error) override { deferred_.Reject(error.Value()); }

  private:
    /**
     * Checks the file's size and CRC-32 before usearch parses it (a torn or foreign file is refused, never viewed),
     * reading it through usearch's own mapped file, which `build.ts` patches to advise for huge pages and populate, as
     * the view's mapping then is: the kernel caches the file in 2 MB folios on the way, and usearch's view maps those
     * without reading the disk again. The file is read once where a check by `read` and then the view read it twice
     * (~0.5 s per GB at start). Null when it matches.
     */
    char const* verify(int descriptor) const noexcept {
        struct stat status;
        if (::fstat(descriptor, &status) != 0 || static_cast<std::uint64_t>(status.st_size) != check_->bytes)
            return "graph file has the wrong size";
        if (check_->bytes == 0)
            return check_->crc32 == 0 ? nullptr : "graph file does not match its checksum";
        memory_mapped_file_t mapped(path_.c_str()); // unmapped and closed when it goes out of scope
        auto opened = mapped.open_if_not();
        if (!opened) {
            opened.error.release(); // usearch's error raises when dropped unreleased
            return "graph file could not be mapped to check it";
        }
        if (mapped.size() != check_->bytes)
            return "graph file has the wrong size";
        std::uint32_t crc = static_cast<std::uint32_t>(
            ::crc32_z(0, reinterpret_cast<Bytef const*>(mapped.data()), static_cast<z_size_t>(mapped.size())));
        return crc == check_->crc32 ? nullptr : "graph file does not match its checksum";
    }

    Napi::Promise::Deferred deferred_;
    Napi::ObjectReference owner_;
    CompiledIndex* index_;
    std::string path_;
    std::optional<Check> check_;
};

/** `viewAsync(path[, bytes, crc32])`: the promise rejects, and nothing is viewed, when the file is not that one. */
Napi::Value CompiledIndex::ViewAsync(Napi::CallbackInfo const& ctx) {
    std::optional<ViewWorker::Check> check;
    if (ctx.Length() >= 3 && ctx[1].IsNumber() && ctx[2].IsNumber())
        check = ViewWorker::Check{static_cast<std::uint64_t>(ctx[1].As<Napi::Number>().Int64Value()),
                                  ctx[2].As<Napi::Number>().Uint32Value()};
    auto* worker = new ViewWorker(ctx.Env(), this, ctx[0].As<Napi::String>().Utf8Value(), check);
    Napi::Promise promise = worker->Promise();
    worker->Queue(); // libuv deletes the worker when it is done
    return promise;
}

/**
 * Runs `task(i)` for every i in [0, tasks) on `threads` threads; `task` returns its usearch error (empty when it
 * succeeded). Errors can be raised only on the calling thread: the first is kept until the workers are done.
 */
template <typename task_at>
static bool run_tasks(Napi::Env env, std::size_t threads, std::size_t tasks, task_at&& task) {
    index_error_t first_error{};
    std::atomic<bool> failed{false};
    executor_default_t executor{threads};
    executor.fixed(tasks, [&](std::size_t /*thread_idx*/, std::size_t task_idx) {
        if (failed.load())
            return;
        index_error_t error = task(task_idx);
        if (error && !failed.exchange(true))
            first_error = std::move(error);
        else
            error.release();
    });
    if (!failed)
        return true;
    Napi::TypeError::New(env, first_error.release()).ThrowAsJavaScriptException();
    return false;
}

void CompiledIndex::Add(Napi::CallbackInfo const& ctx) {
    Napi::Env env = ctx.Env();

    // Check the number of arguments
    if (ctx.Length() != 3) {
        Napi::TypeError::New(env, "`Add` expects 3 arguments: keys, vectors[, threads]").ThrowAsJavaScriptException();
        return;
    }

    // Extract keys and vectors from arguments
    Napi::BigUint64Array keys = ctx[0].As<Napi::BigUint64Array>();
    Napi::TypedArray vectors = ctx[1].As<Napi::TypedArray>();

    // Optional arguments
    std::size_t threads = napi_argument_to_size(ctx[2]);
    if (threads == 0)
        threads = std::thread::hardware_concurrency();

    // Ensure there is enough capacity and memory
    std::size_t tasks = keys.ElementLength();
    if (native_->size() + tasks >= native_->capacity())
        if (!native_->try_reserve({ceil2(native_->size() + tasks), threads})) {
            Napi::TypeError::New(env, "Failed to reserve memory").ThrowAsJavaScriptException();
            return;
        }

    // Run insertions concurrently
    auto run_parallel = [&](auto vectors) {
        run_tasks(env, threads, tasks, [&](std::size_t task_idx) {
            auto key = static_cast<default_key_t>(keys[task_idx]);
            auto vector = vectors + task_idx * native_->dimensions();
            return std::move(native_->add(key, vector).error);
        });
    };

    // Dispatch the parallel tasks based on the `TypedArray` type
    try {
        if (vectors.TypedArrayType() == napi_float32_array) {
            run_parallel(vectors.As<Napi::Float32Array>().Data());
        } else if (vectors.TypedArrayType() == napi_float64_array) {
            run_parallel(vectors.As<Napi::Float64Array>().Data());
        } else if (vectors.TypedArrayType() == napi_int8_array) {
            run_parallel(vectors.As<Napi::Int8Array>().Data());
        } else {
            Napi::TypeError::New(
                env, "Unsupported TypedArray. Supported types are Float32Array, Float64Array, and Int8Array.")
                .ThrowAsJavaScriptException();
        }
    } catch (...) {
        Napi::TypeError::New(env, "Insertion failed").ThrowAsJavaScriptException();
    }
}

Napi::Value CompiledIndex::Search(Napi::CallbackInfo const& ctx) {
    Napi::Env env = ctx.Env();

    // Check the number of arguments
    if (ctx.Length() != 3) {
        Napi::TypeError::New(env, "`Search` expects 3 arguments: queries, k[, threads]").ThrowAsJavaScriptException();
        return env.Null();
    }

    // Extract mandatory arguments
    Napi::TypedArray queries = ctx[0].As<Napi::TypedArray>();
    std::size_t wanted = napi_argument_to_size(ctx[1]);
    std::size_t threads = napi_argument_to_size(ctx[2]);
    if (threads == 0)
        threads = std::thread::hardware_concurrency();

    // Run queries concurrently
    std::size_t tasks = queries.ElementLength() / native_->dimensions();
    auto run_parallel = [&](auto vectors) -> Napi::Value {
        Napi::Array result_js = Napi::Array::New(env, 3);
        Napi::BigUint64Array matches_js = Napi::BigUint64Array::New(env, tasks * wanted);
        Napi::Float32Array distances_js = Napi::Float32Array::New(env, tasks * wanted);
        Napi::BigUint64Array counts_js = Napi::BigUint64Array::New(env, tasks);

        auto matches_data = matches_js.Data();
        auto distances_data = distances_js.Data();
        auto counts_data = counts_js.Data();

        bool done = run_tasks(env, threads, tasks, [&](std::size_t task_idx) {
            auto vector = vectors + task_idx * native_->dimensions();
            search_result_t result = native_->search(vector, wanted);
            if (result)
                counts_data[task_idx] =
                    result.dump_to(matches_data + task_idx * wanted, distances_data + task_idx * wanted, wanted);
            return std::move(result.error);
        });
        if (!done)
            return env.Null();

        result_js.Set(0u, matches_js);
        result_js.Set(1u, distances_js);
        result_js.Set(2u, counts_js);
        return result_js;
    };

    // Dispatch the parallel tasks based on the `TypedArray` type
    try {
        if (queries.TypedArrayType() == napi_float32_array) {
            return run_parallel(queries.As<Napi::Float32Array>().Data());
        } else if (queries.TypedArrayType() == napi_float64_array) {
            return run_parallel(queries.As<Napi::Float64Array>().Data());
        } else if (queries.TypedArrayType() == napi_int8_array) {
            return run_parallel(queries.As<Napi::Int8Array>().Data());
        } else {
            Napi::TypeError::New(
                env, "Unsupported TypedArray. Supported types are Float32Array, Float64Array, and Int8Array.")
                .ThrowAsJavaScriptException();
            return env.Null();
        }
    } catch (...) {
        Napi::TypeError::New(env, "Search failed").ThrowAsJavaScriptException();
        return env.Null();
    }
}

Napi::Value version(Napi::CallbackInfo const& info) {
    static char buf[32];
    std::snprintf(buf, sizeof(buf), "%d.%d.%d", USEARCH_VERSION_MAJOR, USEARCH_VERSION_MINOR, USEARCH_VERSION_PATCH);
    return Napi::String::New(info.Env(), buf);
}

Napi::Value hardwareAccelerationCompiled(Napi::CallbackInfo const& info) {
    return Napi::String::New(info.Env(), unum::usearch::hardware_acceleration_compiled());
}

Napi::Value hardwareAccelerationAvailable(Napi::CallbackInfo const& info) {
    return Napi::String::New(info.Env(), unum::usearch::hardware_acceleration_available());
}

#if defined(__GLIBC__)
/**
 * glibc's `malloc_trim(0)` on a thread of libuv's pool: the free space inside every arena's heap, not only at its top,
 * goes back to the kernel (whole free pages are `MADV_DONTNEED`ed), so blocks under the mmap threshold that were freed
 * between live ones stop counting as resident anonymous memory. It takes each arena's lock in turn, so other threads'
 * `malloc` calls wait a moment; the event loop does not run it.
 */
class TrimWorker : public Napi::AsyncWorker {
  public:
    explicit TrimWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}

    Napi::Promise Promise() const { return deferred_.Promise(); }

  protected:
    void Execute() override { released_ = ::malloc_trim(0) != 0; }
    void OnOK() override { deferred_.Resolve(Napi::Boolean::New(Env(), released_)); }
    void OnError(Napi::Error const& error) override { deferred_.Reject(error.Value()); }

  private:
    Napi::Promise::Deferred deferred_;
    bool released_ = false;
};

/**
 * `mallocFreeBytes(): number`: the bytes free inside malloc's arenas below their tops (`mallinfo2`: free chunks less the
 * top chunks), what a trim would walk and hand back. Quick (no system call): it counts the free lists.
 */
Napi::Value mallocFreeBytes(Napi::CallbackInfo const& info) {
    struct mallinfo2 info2 = ::mallinfo2();
    double inside = static_cast<double>(info2.fordblks) - static_cast<double>(info2.keepcost);
    return Napi::Number::New(info.Env(), inside > 0 ? inside : 0);
}

/** `trimMallocHeap(): Promise<boolean>`: whether any memory went back to the kernel. */
Napi::Value trimMallocHeap(Napi::CallbackInfo const& info) {
    auto* worker = new TrimWorker(info.Env());
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
}
#endif

/**
 * `adviseHugePages(buffer: ArrayBuffer): boolean`: asks the kernel for transparent huge pages (2 MB) over the whole 2 MB
 * pages inside the buffer (`MADV_HUGEPAGE`; the kernel's default mode applies them only where advised). A large buffer
 * filled row by row (a values or sketch chunk) then takes one page fault per 2 MB instead of 512, and scans over it
 * fewer TLB misses. False where nothing was advised (a buffer without a whole 2 MB page, or the kernel refused).
 */
Napi::Value adviseHugePages(Napi::CallbackInfo const& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsArrayBuffer()) {
        Napi::TypeError::New(env, "adviseHugePages expects an ArrayBuffer").ThrowAsJavaScriptException();
        return env.Null();
    }
#if defined(MADV_HUGEPAGE)
    Napi::ArrayBuffer buffer = info[0].As<Napi::ArrayBuffer>();
    constexpr std::uintptr_t huge_page = std::uintptr_t(2) << 20;
    auto start = reinterpret_cast<std::uintptr_t>(buffer.Data());
    std::uintptr_t from = (start + huge_page - 1) & ~(huge_page - 1);
    std::uintptr_t to = (start + buffer.ByteLength()) & ~(huge_page - 1);
    if (buffer.Data() == nullptr || to <= from)
        return Napi::Boolean::New(env, false);
    return Napi::Boolean::New(env, ::madvise(reinterpret_cast<void*>(from), to - from, MADV_HUGEPAGE) == 0);
#else
    return Napi::Boolean::New(env, false);
#endif
}

namespace json_values {

constexpr std::size_t not_taken = static_cast<std::size_t>(-1);

/** Exact powers of ten as doubles (10^0 … 10^22 are exactly representable). */
constexpr double pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                              1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

inline bool is_digit(unsigned char c) { return static_cast<unsigned char>(c - '0') < 10; }
inline bool is_space(unsigned char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

inline std::size_t skip_space(unsigned char const* b, std::size_t i, std::size_t end) {
    while (i < end && is_space(b[i]))
        ++i;
    return i;
}

constexpr std::uint32_t pow10_int[9] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

/**
 * The digits (0 … 8) starting at i and their value, from one 8-byte load and SWAR multiplies: no branch per digit, so
 * a varying digit count costs no mispredictions (they were most of a byte-by-byte scan's time).
 */
inline int digit_run(unsigned char const* b, std::size_t i, std::size_t end, std::uint32_t& value) {
    std::uint64_t word;
    if (i + 8 <= end) {
        std::memcpy(&word, b + i, 8);
    } else {
        // Past the end: bytes that are no digit.
        unsigned char tail[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
        if (i < end)
            std::memcpy(tail, b + i, end - i);
        std::memcpy(&word, tail, 8);
    }
    std::uint64_t const t = word ^ 0x3030303030303030ull; // digits become bytes 0 … 9
    // A byte above 9 gets its top bit set (a carry can only reach bytes above the first such byte).
    std::uint64_t const above = ((t + 0x7676767676767676ull) | t) & 0x8080808080808080ull;
    int const run = above == 0 ? 8 : __builtin_ctzll(above) / 8;
    if (run == 0) {
        value = 0;
        return 0;
    }
    // The run's digits moved to the top bytes (zero digits below): the 8-digit SWAR conversion reads them as one number.
    std::uint64_t v = t << (8 * (8 - run));
    v = (v * 10) + (v >> 8);
    v = (((v & 0x000000FF000000FFull) * 0x000F424000000064ull) + (((v >> 16) & 0x000000FF000000FFull) * 0x0000271000000001ull)) >> 32;
    value = static_cast<std::uint32_t>(v);
    return run;
}

/**
 * A JSON number at i as float32, bit-identical to JavaScript's `Math.fround(JSON.parse(text))`: the index after it,
 * or `not_taken` for bad syntax, a value that is not a finite float32, or one `from_chars` reports out of range (an
 * underflow to zero: the JavaScript scanner reads those). Up to 19 digits go into an integer m (leading zeros of a
 * fraction may count among them: m stays exact, only the fast path is taken less often); with at most 15 and a
 * decimal exponent within ±22, one correctly rounded operation on exact operands gives JSON.parse's double (Clinger's
 * fast path), else `std::from_chars` (correctly rounded, locale-free) reads the text. Then the double is rounded to
 * float32 as `Math.fround` does (to nearest, ties to even).
 */
inline std::size_t scan_number(unsigned char const* b, std::size_t i, std::size_t end, float& value) {
    std::size_t const start = i;
    bool const negative = i < end && b[i] == '-';
    i += negative;
    std::uint32_t chunk;
    int run;
    if (i + 1 < end && is_digit(b[i]) && b[i + 1] == '.') {
        // One digit before the point (most values of unit-scale vectors): no run to measure (a fifth of the
        // instructions per number, callgrind).
        chunk = b[i] - '0';
        run = 1;
    } else {
        run = digit_run(b, i, end, chunk);
        // No digit, or a leading zero followed by a digit: not JSON.
        if (run == 0 || (b[i] == '0' && run > 1))
            return not_taken;
    }
    std::uint64_t m = chunk;
    int digits = m != 0 ? run : 0;
    long k = 0;
    i += run;
    if (run == 8) {
        while (i < end && is_digit(b[i])) {
            if (digits < 19) {
                m = m * 10 + (b[i] - '0');
                ++digits;
            } else
                ++k;
            ++i;
        }
    }
    if (i < end && b[i] == '.') {
        ++i;
        run = digit_run(b, i, end, chunk);
        if (run == 0)
            return not_taken;
        while (run > 0 && digits + run <= 19) {
            m = m * pow10_int[run] + chunk;
            digits += run;
            k -= run;
            i += run;
            if (run < 8)
                break;
            run = digit_run(b, i, end, chunk);
        }
        // What did not fit in the 19 kept, digit by digit.
        while (i < end && is_digit(b[i])) {
            if (digits < 19) {
                if (m != 0 || b[i] != '0') {
                    m = m * 10 + (b[i] - '0');
                    ++digits;
                }
                --k;
            }
            ++i;
        }
    }
    if (i < end && (b[i] == 'e' || b[i] == 'E')) {
        ++i;
        bool exponent_negative = false;
        if (i < end && (b[i] == '-' || b[i] == '+')) {
            exponent_negative = b[i] == '-';
            ++i;
        }
        if (!(i < end && is_digit(b[i])))
            return not_taken;
        long e = 0;
        do {
            if (e < 100000)
                e = e * 10 + (b[i] - '0');
            ++i;
        } while (i < end && is_digit(b[i]));
        k += exponent_negative ? -e : e;
    }
    float f;
    if (m == 0 && digits <= 15) {
        // (More digits: a nonzero one may have been dropped after 19 counted zeros; from_chars reads the text.)
        f = negative ? -0.0f : 0.0f;
    } else if (digits <= 15 && k >= -22 && k <= 22) {
        double x = k >= 0 ? static_cast<double>(m) * pow10[k] : static_cast<double>(m) / pow10[-k];
        f = static_cast<float>(negative ? -x : x);
    } else {
        double x;
        char const* first = reinterpret_cast<char const*>(b + start);
        char const* last = reinterpret_cast<char const*>(b + i);
        std::from_chars_result read = std::from_chars(first, last, x);
        if (read.ec != std::errc() || read.ptr != last)
            return not_taken;
        f = static_cast<float>(x);
    }
    if (!std::isfinite(f))
        return not_taken;
    value = f;
    return i;
}

} // namespace json_values

/**
 * `scanJsonFloat32Array(bytes: Uint8Array, at: number, out: Float32Array, outAt: number): number`: the JSON array of
 * numbers starting with `[` at `at` read into `out` from `outAt`, each value bit-identical to
 * `Math.fround(JSON.parse(text))` (the upsert and query readers' values, apps/vector-store/src/api/upsert-body.ts).
 * Returns `count * 2^32 + end` (end: the index after `]`), or -1 when it does not take the array — bad syntax, a
 * number it leaves to JavaScript (see scan_number) or no room left in `out` — and then what it wrote is garbage the
 * caller overwrites. ~22 ns per 4-decimal number on a Zen 3 VM, against ~30–50 for the same scan in JavaScript (the
 * parse worker's CPU per 1000 768-d vectors ingested 32 → 23 ms, bench/RESULTS.md session 20).
 */
Napi::Value scanJsonFloat32Array(Napi::CallbackInfo const& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsTypedArray() || !info[2].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
        info[2].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        Napi::TypeError::New(env, "scanJsonFloat32Array expects (Uint8Array, number, Float32Array, number)")
            .ThrowAsJavaScriptException();
        return env.Null();
    }
    // Data() is the first element's address (the view's byte offset applied).
    Napi::Uint8Array bytes = info[0].As<Napi::Uint8Array>();
    Napi::Float32Array out = info[2].As<Napi::Float32Array>();
    double at_arg = info[1].As<Napi::Number>().DoubleValue();
    double out_at_arg = info[3].As<Napi::Number>().DoubleValue();
    std::size_t const end = bytes.ElementLength();
    std::size_t const room = out.ElementLength();
    if (!(at_arg >= 0 && at_arg < static_cast<double>(end)) || !(out_at_arg >= 0 && out_at_arg <= static_cast<double>(room)))
        return Napi::Number::New(env, -1);
    unsigned char const* b = bytes.Data();
    float* values = out.Data();
    std::size_t i = static_cast<std::size_t>(at_arg);
    std::size_t const first = static_cast<std::size_t>(out_at_arg);
    std::size_t used = first;
    if (b[i] != '[')
        return Napi::Number::New(env, -1);
    i = json_values::skip_space(b, i + 1, end);
    if (i < end && b[i] == ']')
        return Napi::Number::New(env, static_cast<double>(i + 1));
    for (;;) {
        if (used == room)
            return Napi::Number::New(env, -1);
        i = json_values::scan_number(b, i, end, values[used]);
        if (i == json_values::not_taken)
            return Napi::Number::New(env, -1);
        ++used;
        i = json_values::skip_space(b, i, end);
        if (i >= end)
            return Napi::Number::New(env, -1);
        if (b[i] == ',')
            i = json_values::skip_space(b, i + 1, end);
        else if (b[i] == ']')
            return Napi::Number::New(env, static_cast<double>(used - first) * 4294967296.0 + static_cast<double>(i + 1));
        else
            return Napi::Number::New(env, -1);
    }
}

Napi::Object InitAll(Napi::Env env, Napi::Object exports) {
    exports.Set("version", Napi::Function::New(env, version));
    exports.Set("hardwareAccelerationCompiled", Napi::Function::New(env, hardwareAccelerationCompiled));
    exports.Set("hardwareAccelerationAvailable", Napi::Function::New(env, hardwareAccelerationAvailable));
    exports.Set("adviseHugePages", Napi::Function::New(env, adviseHugePages));
    exports.Set("scanJsonFloat32Array", Napi::Function::New(env, scanJsonFloat32Array));
#if defined(__GLIBC__)
    exports.Set("trimMallocHeap", Napi::Function::New(env, trimMallocHeap));
    exports.Set("mallocFreeBytes", Napi::Function::New(env, mallocFreeBytes));
#endif
    return CompiledIndex::Init(env, exports);
}

NODE_API_MODULE(conifer_usearch, InitAll)
