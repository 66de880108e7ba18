from tenacity import retry, stop_after_attempt, wait_exponential

@retry(stop=stop_after_attempt(3), wait=wait_exponential(multiplier=1, min=4, max=10))
def make_request_with_retry(client, messages):
    return client.chat.completions.create(
        model="meta-llama/Llama-2-7b-chat-hf",
        messages=messages
    )
