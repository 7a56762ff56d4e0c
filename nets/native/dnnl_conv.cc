// oneDNN's direct 2-D convolutions as XLA FFI handlers (forward, backward-data,
// backward-weights), the kernels PyTorch calls on the CPU.
//
// Activations are NCHW in shape and NHWC in memory (nets/native/conv.py asks XLA for that
// layout), weights OIHW, float32. Bias and ReLU fuse into the forward primitive. Primitives
// (and the reorder of the weights into oneDNN's blocked format) are created once per shape
// and cached; execution is serialised by one mutex, since XLA's CPU runtime may call a
// handler from several threads and the cached primitives share their scratch memory.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>

#include "oneapi/dnnl/dnnl.hpp"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;
using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

namespace {

struct Geometry {
  int64_t n, c, h, w;      // input
  int64_t o, kh, kw;       // weights (groups: 1)
  int64_t oh, ow;          // output
  int64_t sh, sw, dh, dw;  // stride, dilation (1 = dense)
  int64_t pt, pb, pl, pr;  // padding

  memory::dims src() const { return {n, c, h, w}; }
  memory::dims wei() const { return {o, c, kh, kw}; }
  memory::dims dst() const { return {n, o, oh, ow}; }
  memory::dims bias() const { return {o}; }
  memory::dims strides() const { return {sh, sw}; }
  memory::dims dilation() const { return {dh - 1, dw - 1}; }  // oneDNN counts the gaps
  memory::dims pad_l() const { return {pt, pl}; }
  memory::dims pad_r() const { return {pb, pr}; }
  auto key() const {
    return std::make_tuple(n, c, h, w, o, kh, kw, oh, ow, sh, sw, dh, dw, pt, pb, pl, pr);
  }
};

dnnl::engine& engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

std::mutex& lock() {
  static std::mutex m;
  return m;
}

memory::desc plain(const memory::dims& d, tag t) { return memory::desc(d, dt::f32, t); }

dnnl::convolution_forward::primitive_desc forward_pd(const Geometry& g, bool bias, bool relu) {
  dnnl::post_ops ops;
  if (relu) ops.append_eltwise(dnnl::algorithm::eltwise_relu, 0.f, 0.f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  auto src = plain(g.src(), tag::nhwc);
  auto dst = plain(g.dst(), tag::nhwc);
  auto wei = memory::desc(g.wei(), dt::f32, tag::any);
  if (bias) {
    return dnnl::convolution_forward::primitive_desc(
        engine(), dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src,
        wei, plain(g.bias(), tag::a), dst, g.strides(), g.dilation(), g.pad_l(), g.pad_r(),
        attr);
  }
  return dnnl::convolution_forward::primitive_desc(
      engine(), dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src, wei,
      dst, g.strides(), g.dilation(), g.pad_l(), g.pad_r(), attr);
}

// A cached forward: the primitive, and the reorder of OIHW weights into its format.
struct Forward {
  dnnl::convolution_forward conv;
  memory::desc wei_md;
  dnnl::reorder wei_reorder;  // empty when the primitive takes OIHW as it is
  memory wei_mem;
};

struct BackwardData {
  dnnl::convolution_backward_data conv;
  memory::desc wei_md;
  dnnl::reorder wei_reorder;
  memory wei_mem;
};

struct BackwardWeights {
  dnnl::convolution_backward_weights conv;
  memory::desc wei_md;
  dnnl::reorder wei_reorder;  // from the primitive's format back to OIHW
  memory wei_mem;
};

template <typename T>
void prepare_weights(T& entry, const memory::desc& chosen, const Geometry& g, bool to_plain) {
  entry.wei_md = chosen;
  auto user = plain(g.wei(), tag::oihw);
  if (chosen != user) {
    entry.wei_mem = memory(chosen, engine());
    entry.wei_reorder = to_plain ? dnnl::reorder(memory(chosen, engine(), nullptr),
                                                 memory(user, engine(), nullptr))
                                 : dnnl::reorder(memory(user, engine(), nullptr),
                                                 memory(chosen, engine(), nullptr));
  }
}

template <typename T, typename Key, typename Make>
T& cached(std::map<Key, std::unique_ptr<T>>& cache, const Key& key, Make make) {
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, std::make_unique<T>(make())).first;
  return *it->second;
}

// Reads the geometry from the attributes and the input/output shapes.
Geometry geometry(ffi::Span<const int64_t> x, ffi::Span<const int64_t> w,
                  ffi::Span<const int64_t> y, int64_t sh, int64_t sw, int64_t dh, int64_t dw,
                  int64_t pt, int64_t pb, int64_t pl, int64_t pr) {
  return Geometry{x[0], x[1], x[2], x[3], w[0], w[2], w[3], y[2], y[3],
                  sh,   sw,   dh,   dw,   pt,   pb,   pl,   pr};
}

ffi::Error guarded(const char* what, const std::function<void()>& body) {
  try {
    body();
  } catch (const dnnl::error& e) {
    return ffi::Error::Internal(std::string(what) + ": oneDNN: " + e.what());
  } catch (const std::exception& e) {
    return ffi::Error::Internal(std::string(what) + ": " + e.what());
  }
  return ffi::Error::Success();
}

ffi::Error ConvForwardImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> w,
                           ffi::Buffer<ffi::F32> b, ffi::ResultBuffer<ffi::F32> y, int64_t sh,
                           int64_t sw, int64_t dh, int64_t dw, int64_t pt, int64_t pb,
                           int64_t pl, int64_t pr, bool has_bias, bool relu) {
  return guarded("nets_dnnl_conv_forward", [&] {
    auto g = geometry(x.dimensions(), w.dimensions(), y->dimensions(), sh, sw, dh, dw, pt, pb,
                      pl, pr);
    static std::map<std::tuple<decltype(g.key()), bool, bool>, std::unique_ptr<Forward>> cache;
    std::lock_guard<std::mutex> guard(lock());
    auto& f = cached(cache, std::make_tuple(g.key(), has_bias, relu), [&] {
      auto pd = forward_pd(g, has_bias, relu);
      Forward f{dnnl::convolution_forward(pd), {}, {}, {}};
      prepare_weights(f, pd.weights_desc(), g, false);
      return f;
    });
    dnnl::stream s(engine());
    memory src(plain(g.src(), tag::nhwc), engine(), x.typed_data());
    memory dst(plain(g.dst(), tag::nhwc), engine(), y->typed_data());
    memory wei(plain(g.wei(), tag::oihw), engine(), w.typed_data());
    memory wei_used = wei;
    if (f.wei_reorder) {
      f.wei_reorder.execute(s, wei, f.wei_mem);
      wei_used = f.wei_mem;
    }
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei_used}, {DNNL_ARG_DST, dst}};
    if (has_bias) args[DNNL_ARG_BIAS] = memory(plain(g.bias(), tag::a), engine(), b.typed_data());
    f.conv.execute(s, args);
    s.wait();
  });
}

ffi::Error ConvBackwardDataImpl(ffi::Buffer<ffi::F32> dy, ffi::Buffer<ffi::F32> w,
                                ffi::ResultBuffer<ffi::F32> dx, int64_t sh, int64_t sw,
                                int64_t dh, int64_t dw, int64_t pt, int64_t pb, int64_t pl,
                                int64_t pr) {
  return guarded("nets_dnnl_conv_backward_data", [&] {
    auto g = geometry(dx->dimensions(), w.dimensions(), dy.dimensions(), sh, sw, dh, dw, pt, pb,
                      pl, pr);
    static std::map<decltype(g.key()), std::unique_ptr<BackwardData>> cache;
    std::lock_guard<std::mutex> guard(lock());
    auto& f = cached(cache, g.key(), [&] {
      auto hint = forward_pd(g, false, false);
      dnnl::convolution_backward_data::primitive_desc pd(
          engine(), dnnl::algorithm::convolution_direct, plain(g.src(), tag::nhwc),
          memory::desc(g.wei(), dt::f32, tag::any), plain(g.dst(), tag::nhwc), g.strides(),
          g.dilation(), g.pad_l(), g.pad_r(), hint);
      BackwardData f{dnnl::convolution_backward_data(pd), {}, {}, {}};
      prepare_weights(f, pd.weights_desc(), g, false);
      return f;
    });
    dnnl::stream s(engine());
    memory wei(plain(g.wei(), tag::oihw), engine(), w.typed_data());
    memory wei_used = wei;
    if (f.wei_reorder) {
      f.wei_reorder.execute(s, wei, f.wei_mem);
      wei_used = f.wei_mem;
    }
    f.conv.execute(s, {{DNNL_ARG_DIFF_DST, memory(plain(g.dst(), tag::nhwc), engine(),
                                                  dy.typed_data())},
                       {DNNL_ARG_WEIGHTS, wei_used},
                       {DNNL_ARG_DIFF_SRC, memory(plain(g.src(), tag::nhwc), engine(),
                                                  dx->typed_data())}});
    s.wait();
  });
}

ffi::Error ConvBackwardWeightsImpl(ffi::Buffer<ffi::F32> x, ffi::Buffer<ffi::F32> dy,
                                   ffi::ResultBuffer<ffi::F32> dw_out,
                                   ffi::ResultBuffer<ffi::F32> db_out, int64_t sh, int64_t sw,
                                   int64_t dh, int64_t dw, int64_t pt, int64_t pb, int64_t pl,
                                   int64_t pr) {
  return guarded("nets_dnnl_conv_backward_weights", [&] {
    auto g = geometry(x.dimensions(), dw_out->dimensions(), dy.dimensions(), sh, sw, dh, dw, pt,
                      pb, pl, pr);
    static std::map<decltype(g.key()), std::unique_ptr<BackwardWeights>> cache;
    std::lock_guard<std::mutex> guard(lock());
    auto& f = cached(cache, g.key(), [&] {
      auto hint = forward_pd(g, true, false);
      dnnl::convolution_backward_weights::primitive_desc pd(
          engine(), dnnl::algorithm::convolution_direct, plain(g.src(), tag::nhwc),
          memory::desc(g.wei(), dt::f32, tag::any), plain(g.bias(), tag::a),
          plain(g.dst(), tag::nhwc), g.strides(), g.dilation(), g.pad_l(), g.pad_r(), hint);
      BackwardWeights f{dnnl::convolution_backward_weights(pd), {}, {}, {}};
      prepare_weights(f, pd.diff_weights_desc(), g, true);
      return f;
    });
    dnnl::stream s(engine());
    memory user_dw(plain(g.wei(), tag::oihw), engine(), dw_out->typed_data());
    memory dw_used = f.wei_reorder ? f.wei_mem : user_dw;
    f.conv.execute(s, {{DNNL_ARG_SRC, memory(plain(g.src(), tag::nhwc), engine(),
                                             x.typed_data())},
                       {DNNL_ARG_DIFF_DST, memory(plain(g.dst(), tag::nhwc), engine(),
                                                  dy.typed_data())},
                       {DNNL_ARG_DIFF_WEIGHTS, dw_used},
                       {DNNL_ARG_DIFF_BIAS, memory(plain(g.bias(), tag::a), engine(),
                                                   db_out->typed_data())}});
    if (f.wei_reorder) f.wei_reorder.execute(s, f.wei_mem, user_dw);
    s.wait();
  });
}

}  // namespace

// The library is built with hidden visibility; only these symbols are its interface.
#pragma GCC visibility push(default)

#define NETS_CONV_ATTRS                                                                   \
  .Attr<int64_t>("stride_h")                                                              \
      .Attr<int64_t>("stride_w")                                                          \
      .Attr<int64_t>("dilation_h")                                                        \
      .Attr<int64_t>("dilation_w")                                                        \
      .Attr<int64_t>("pad_top")                                                           \
      .Attr<int64_t>("pad_bottom")                                                        \
      .Attr<int64_t>("pad_left")                                                          \
      .Attr<int64_t>("pad_right")

XLA_FFI_DEFINE_HANDLER_SYMBOL(NetsDnnlConvForward, ConvForwardImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>() NETS_CONV_ATTRS
                                  .Attr<bool>("has_bias")
                                  .Attr<bool>("relu"));

XLA_FFI_DEFINE_HANDLER_SYMBOL(NetsDnnlConvBackwardData, ConvBackwardDataImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>() NETS_CONV_ATTRS);

XLA_FFI_DEFINE_HANDLER_SYMBOL(NetsDnnlConvBackwardWeights, ConvBackwardWeightsImpl,
                              ffi::Ffi::Bind()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Arg<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>()
                                  .Ret<ffi::Buffer<ffi::F32>>() NETS_CONV_ATTRS);

// For the loader: the oneDNN version this was built against, to compare with the library.
extern "C" int nets_dnnl_built_version() {
  return DNNL_VERSION_MAJOR * 10000 + DNNL_VERSION_MINOR * 100 + DNNL_VERSION_PATCH;
}

#pragma GCC visibility pop
