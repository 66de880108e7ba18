# For real-time applications
stream = model.create_stream()

for data_chunk in data_stream:
    result = stream.predict(data_chunk)
    process_result(result)

stream.close()
