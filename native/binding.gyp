{
  "targets": [{
    "target_name": "subliminal_native",
    "sources": ["gemm.cc", "fused.cc", "attention.cc", "sample.cc", "peak.cc"],
    "cflags_cc": ["-O3", "-march=native", "-fno-math-errno", "-fno-exceptions", "-std=c++17"],
    "cflags_cc!": ["-fno-rtti"]
  }]
}
