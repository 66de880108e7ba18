socket.emit('subscribe', {
    channels: ['inference_events']
});

socket.on('inference_started', (data) => {
    console.log('Inference started:', data.request_id);
});

socket.on('inference_completed', (data) => {
    console.log('Inference completed:', data.request_id, data.result);
});
