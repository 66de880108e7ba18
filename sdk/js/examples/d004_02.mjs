socket.emit('subscribe', {
    channels: ['system_metrics', 'gpu_metrics', 'inference_stats']
});
