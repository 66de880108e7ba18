# Basic optimization
optimized_model = client.optimize(model)

# Specify target
optimized_model = client.optimize(
    model, 
    target="inference",  # or "training"
    level="standard"     # "basic", "standard", "aggressive"
)

# Advanced optimization options
optimized_model = client.optimize(
    model,
    target="inference",
    options={
        "use_fp16": True,
        "batch_size": 32,
        "max_sequence_length": 512,
        "enable_kernel_fusion": True
    }
)
